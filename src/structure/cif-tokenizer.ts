/**
 * A small CIF 1.1 tokenizer and block reader, written here on purpose: we need the CIF line
 * number of every value for error messages, and none of the npm CIF packages keeps line numbers,
 * occupancies and merges co-located sites at once (the structure reading itself is in cif.ts).
 *
 * Handles: comments (#), data_ blocks, loop_, tags, bare words, '…' and "…" strings (a quote
 * closes only when followed by whitespace or end of line, per CIF 1.1), ;-delimited text fields,
 * and the unquoted placeholders `?` (unknown) and `.` (inapplicable), both read as null.
 */
import { quoteInput, StructureParseError } from '../errors.js';

export interface CifToken {
  text: string;
  /** 1-based line of the token's first character. */
  line: number;
  /** True for quoted strings and text fields: never a keyword, tag or placeholder. */
  quoted: boolean;
}

export interface CifValue {
  /** null for the unquoted placeholders `?` and `.`. */
  value: string | null;
  line: number;
}

export interface CifLoop {
  /** Lower-case tag names, CIF2 dots normalised to underscores. */
  tags: string[];
  /** rows[i][j] is the value of tags[j] in row i. */
  rows: CifValue[][];
  line: number;
}

export interface CifBlock {
  name: string;
  line: number;
  /** Single-valued items by normalised tag. */
  items: Map<string, CifValue>;
  loops: CifLoop[];
}

const FORMAT = 'CIF';

/** Normalises a tag: lower case, and `_space_group_symop.operation_xyz` → `_space_group_symop_operation_xyz`. */
export function normaliseTag(tag: string): string {
  return tag.toLowerCase().replace(/\./g, '_');
}

export function tokenizeCif(text: string): CifToken[] {
  const tokens: CifToken[] = [];
  const lines = text.split(/\r\n|\r|\n/);
  for (let li = 0; li < lines.length; li++) {
    const line = lines[li]!;
    const lineNo = li + 1;
    if (line.startsWith(';')) {
      // Text field: runs until a line that starts with ';'.
      const parts = [line.slice(1)];
      let end = li + 1;
      while (end < lines.length && !lines[end]!.startsWith(';')) parts.push(lines[end++]!);
      if (end >= lines.length) throw new StructureParseError(FORMAT, 'unterminated ;-delimited text field', lineNo);
      tokens.push({ text: parts.join('\n'), line: lineNo, quoted: true });
      // The closing ';' line may carry more tokens after the ';'.
      li = end;
      tokenizeLine(lines[end]!.slice(1), end + 1, tokens);
      continue;
    }
    tokenizeLine(line, lineNo, tokens);
  }
  return tokens;
}

function isSpace(ch: string | undefined): boolean {
  return ch === ' ' || ch === '\t' || ch === '\v' || ch === '\f';
}

function tokenizeLine(line: string, lineNo: number, out: CifToken[]): void {
  let i = 0;
  const n = line.length;
  while (i < n) {
    while (i < n && isSpace(line[i])) i++;
    if (i >= n) break;
    const ch = line[i]!;
    if (ch === '#') return;
    if (ch === "'" || ch === '"') {
      // Closing quote = same quote followed by whitespace or end of line.
      let j = i + 1;
      while (j < n && !(line[j] === ch && (j + 1 >= n || isSpace(line[j + 1])))) j++;
      if (j >= n) throw new StructureParseError(FORMAT, `unterminated quoted string ${quoteInput(line.slice(i), 20)}`, lineNo);
      out.push({ text: line.slice(i + 1, j), line: lineNo, quoted: true });
      i = j + 1;
      continue;
    }
    let j = i;
    while (j < n && !isSpace(line[j])) j++;
    out.push({ text: line.slice(i, j), line: lineNo, quoted: false });
    i = j;
  }
}

function isReserved(tok: CifToken): boolean {
  if (tok.quoted) return false;
  const t = tok.text.toLowerCase();
  return (
    t.startsWith('_') ||
    t === 'loop_' ||
    t.startsWith('data_') ||
    t.startsWith('save_') ||
    t === 'global_' ||
    t === 'stop_'
  );
}

function toValue(tok: CifToken): CifValue {
  if (!tok.quoted && (tok.text === '?' || tok.text === '.')) return { value: null, line: tok.line };
  return { value: tok.text, line: tok.line };
}

/** Splits a CIF text into data blocks of items and loops. */
export function readCifBlocks(text: string): CifBlock[] {
  const tokens = tokenizeCif(text);
  const blocks: CifBlock[] = [];
  let block: CifBlock | undefined;
  let i = 0;
  const current = (tok: CifToken): CifBlock => {
    if (!block) {
      // Items before any data_ header: be lenient and open an anonymous block.
      block = { name: '', line: tok.line, items: new Map(), loops: [] };
      blocks.push(block);
    }
    return block;
  };
  while (i < tokens.length) {
    const tok = tokens[i]!;
    const lower = tok.text.toLowerCase();
    if (!tok.quoted && lower.startsWith('data_')) {
      block = { name: tok.text.slice(5), line: tok.line, items: new Map(), loops: [] };
      blocks.push(block);
      i++;
    } else if (!tok.quoted && lower === 'loop_') {
      const b = current(tok);
      const loopLine = tok.line;
      i++;
      const tags: string[] = [];
      while (i < tokens.length && !tokens[i]!.quoted && tokens[i]!.text.startsWith('_')) {
        tags.push(normaliseTag(tokens[i]!.text));
        i++;
      }
      if (tags.length === 0) throw new StructureParseError(FORMAT, 'loop_ without tags', loopLine);
      const values: CifValue[] = [];
      while (i < tokens.length && !isReserved(tokens[i]!)) values.push(toValue(tokens[i++]!));
      if (values.length % tags.length !== 0) {
        const last = values.length > 0 ? values[values.length - 1]!.line : loopLine;
        throw new StructureParseError(
          FORMAT,
          `truncated loop: ${values.length} values for ${tags.length} tags (${quoteInput(tags[0]!)} …) is not a whole number of rows`,
          last,
        );
      }
      const rows: CifValue[][] = [];
      for (let r = 0; r < values.length; r += tags.length) rows.push(values.slice(r, r + tags.length));
      b.loops.push({ tags, rows, line: loopLine });
    } else if (!tok.quoted && tok.text.startsWith('_')) {
      const b = current(tok);
      const next = tokens[i + 1];
      if (!next || isReserved(next)) throw new StructureParseError(FORMAT, `tag ${quoteInput(tok.text)} has no value`, tok.line);
      b.items.set(normaliseTag(tok.text), toValue(next));
      i += 2;
    } else if (!tok.quoted && (lower.startsWith('save_') || lower === 'global_' || lower === 'stop_')) {
      i++; // Save frames and global blocks carry no structure data for us.
    } else {
      throw new StructureParseError(FORMAT, `unexpected value ${quoteInput(tok.text)} outside a tag or loop`, tok.line);
    }
  }
  return blocks;
}

/** The loop holding `tag`, and the column index of that tag. */
export function findLoop(block: CifBlock, tag: string): { loop: CifLoop; column: number } | undefined {
  for (const loop of block.loops) {
    const column = loop.tags.indexOf(tag);
    if (column >= 0) return { loop, column };
  }
  return undefined;
}

/**
 * A CIF number: "0.1234(5)" → 0.1234 (the standard uncertainty is dropped), "-.5" → -0.5.
 * Returns NaN for anything else. The pattern has one way to match any text (`\d+(\.\d*)?`, not
 * `\d+\.?\d*`), so a long run of digits followed by junk fails in linear time, not quadratic.
 */
export function parseCifNumber(text: string): number {
  const m = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)(?:\(\d+\))?$/.exec(text.trim());
  return m ? Number(m[1]) : NaN;
}
