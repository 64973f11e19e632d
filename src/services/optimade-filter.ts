/**
 * OPTIMADE filter strings for `materials`, `screen` and `similarMaterials`
 * (`filter: { optimade: "elements HAS \"S\" AND NOT elements HAS ANY \"Fe\",\"Co\"" }`): a
 * recursive-descent parser for the subset of the OPTIMADE v1 filter grammar that maps onto stored
 * columns, producing a FilterExpression that store/material.repository.ts turns into SQL.
 *
 * Grammar (keywords upper-case and identifiers lower-case, as the specification has them):
 *
 *     expression := term { "OR" term }
 *     term       := factor { "AND" factor }
 *     factor     := "NOT" factor | "(" expression ")" | comparison
 *     comparison := "elements" "HAS" [ "ALL" | "ANY" | "ONLY" ] string { "," string }
 *                 | ("nelements" | "nsites" | property) op number
 *                 | ("chemical_formula_reduced" | "chemical_formula_descriptive") ("=" | "!=") string
 *     op         := "<" | "<=" | ">" | ">=" | "=" | "!="
 *     property   := "_" provider "_" name        (a numeric material property, e.g. _mp_band_gap)
 *
 * No npm package parses OPTIMADE filters (the reference grammar ships with the Python
 * optimade-python-tools, as a Lark grammar); this subset is small enough to write here. Errors are
 * BadInputError naming the 1-based character position, or the property that is not supported.
 */
import { BadInputError, quoteInput } from '../errors.js';
import { findElement } from '../structure/elements.js';
import { parseComposition } from '../structure/index.js';
import type { FilterExpression } from '../store/material.repository.js';

/** Longest filter string accepted, and deepest nesting (parentheses and NOT). */
export const MAX_OPTIMADE_FILTER_CHARS = 2000;
const MAX_DEPTH = 50;

type TokenKind = 'word' | 'string' | 'number' | 'op' | '(' | ')' | ',' | 'end';
interface Token {
  kind: TokenKind;
  text: string;
  /** 0-based offset in the filter. */
  at: number;
}

const KEYWORDS = new Set(['AND', 'OR', 'NOT', 'HAS', 'ALL', 'ANY', 'ONLY']);
const SUPPORTED = 'elements, nelements, nsites, chemical_formula_reduced, chemical_formula_descriptive and numeric properties such as _mp_band_gap';

export function parseOptimadeFilter(text: string, field = 'optimade'): FilterExpression {
  if (typeof text !== 'string') throw new BadInputError(`${field} must be a string`, { field });
  if (text.length > MAX_OPTIMADE_FILTER_CHARS) throw new BadInputError(`${field} is longer than ${MAX_OPTIMADE_FILTER_CHARS} characters`, { field });
  const fail = (at: number, why: string): never => {
    throw new BadInputError(`${field}: syntax error at position ${at + 1}: ${why}`, { field, position: at + 1 });
  };
  const tokens = tokenize(text, fail);
  let k = 0;
  const peek = () => tokens[k]!;
  const describe = (t: Token) => (t.kind === 'end' ? 'the end of the filter' : t.kind === 'string' ? `the string ${quoteInput(t.text)}` : quoteInput(t.text));
  const expectWord = (word: string) => {
    const t = peek();
    if (t.kind !== 'word' || t.text !== word) fail(t.at, `expected ${word}, found ${describe(t)}`);
    k++;
  };

  const expression = (depth: number): FilterExpression => {
    const parts = [term(depth)];
    while (peek().kind === 'word' && peek().text === 'OR') {
      k++;
      parts.push(term(depth));
    }
    return parts.length === 1 ? parts[0]! : { op: 'or', args: parts };
  };
  const term = (depth: number): FilterExpression => {
    const parts = [factor(depth)];
    while (peek().kind === 'word' && peek().text === 'AND') {
      k++;
      parts.push(factor(depth));
    }
    return parts.length === 1 ? parts[0]! : { op: 'and', args: parts };
  };
  const factor = (depth: number): FilterExpression => {
    const t = peek();
    if (depth > MAX_DEPTH) fail(t.at, `nested deeper than ${MAX_DEPTH} levels`);
    if (t.kind === 'word' && t.text === 'NOT') {
      k++;
      return { op: 'not', arg: factor(depth + 1) };
    }
    if (t.kind === '(') {
      k++;
      const inner = expression(depth + 1);
      const close = peek();
      if (close.kind !== ')') fail(close.at, `expected ) to close the ( at position ${t.at + 1}, found ${describe(close)}`);
      k++;
      return inner;
    }
    return comparison();
  };
  const stringValue = (): Token => {
    const t = peek();
    if (t.kind !== 'string') fail(t.at, `expected a "quoted" value, found ${describe(t)}`);
    k++;
    return t;
  };
  const comparison = (): FilterExpression => {
    const t = peek();
    if (t.kind !== 'word' || KEYWORDS.has(t.text)) fail(t.at, `expected a property (${SUPPORTED}), found ${describe(t)}`);
    k++;
    const name = t.text;
    if (name === 'elements') {
      expectWord('HAS');
      let mode: 'all' | 'any' | 'only' = 'all';
      const m = peek();
      if (m.kind === 'word' && (m.text === 'ALL' || m.text === 'ANY' || m.text === 'ONLY')) {
        mode = m.text.toLowerCase() as typeof mode;
        k++;
      }
      const values = [stringValue()];
      while (peek().kind === ',') {
        k++;
        values.push(stringValue());
      }
      const elements = values.map((v) => {
        if (!/^[A-Z][a-z]{0,2}$/.test(v.text) || !findElement(v.text)) {
          throw new BadInputError(`${field}: ${quoteInput(v.text)} at position ${v.at + 1} is not an element symbol`, { field, position: v.at + 1 });
        }
        return v.text;
      });
      return { op: 'elements', mode, elements };
    }
    if (name === 'chemical_formula_reduced' || name === 'chemical_formula_descriptive') {
      const o = peek();
      if (o.kind !== 'op' || (o.text !== '=' && o.text !== '!=')) fail(o.at, `${name} can be compared with = or != only, found ${describe(o)}`);
      k++;
      const v = stringValue();
      let formula: string;
      try {
        const facts = parseComposition(v.text);
        formula = name === 'chemical_formula_reduced' ? facts.reducedFormula : facts.formula;
      } catch (error) {
        throw new BadInputError(`${field}: the formula at position ${v.at + 1}: ${(error as Error).message}`, { field, position: v.at + 1 });
      }
      const cmp: FilterExpression = { op: 'formula', column: name === 'chemical_formula_reduced' ? 'reduced_formula' : 'formula', formula };
      return o.text === '=' ? cmp : { op: 'not', arg: cmp };
    }
    const numeric = name === 'nelements' || name === 'nsites' ? name : /^_[a-z0-9]+_[a-z0-9_]+$/.test(name) ? name : null;
    if (numeric === null) {
      throw new BadInputError(`${field}: property ${quoteInput(name)} at position ${t.at + 1} is not supported (supported: ${SUPPORTED})`, {
        field,
        position: t.at + 1,
      });
    }
    const o = peek();
    if (o.kind !== 'op') fail(o.at, `expected a comparison (<, <=, >, >=, =, !=) after ${name}, found ${describe(o)}`);
    k++;
    const v = peek();
    if (v.kind !== 'number') fail(v.at, `expected a number after ${name} ${o.text}, found ${describe(v)}`);
    k++;
    const value = Number(v.text);
    const cmp = o.text as '<' | '<=' | '>' | '>=' | '=' | '!=';
    if (numeric === 'nelements' || numeric === 'nsites') return { op: 'compare', column: numeric, cmp, value };
    return { op: 'property', name: numeric, cmp, value };
  };

  const result = expression(0);
  const rest = peek();
  if (rest.kind !== 'end') fail(rest.at, `expected AND, OR or the end of the filter, found ${describe(rest)}`);
  return result;
}

function tokenize(text: string, fail: (at: number, why: string) => never): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const at = i;
    if (c === '"') {
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length) fail(at, 'this string is not closed (a " is missing)');
        const d = text[i]!;
        if (d === '\\') {
          if (i + 1 >= text.length) fail(i, 'a \\ at the end of the filter');
          value += text[i + 1];
          i += 2;
          continue;
        }
        if (d === '"') break;
        value += d;
        i++;
      }
      i++;
      tokens.push({ kind: 'string', text: value, at });
      continue;
    }
    if (c === '(' || c === ')' || c === ',') {
      tokens.push({ kind: c, text: c, at });
      i++;
      continue;
    }
    const op = /^(<=|>=|!=|<|>|=)/.exec(text.slice(i));
    if (op) {
      tokens.push({ kind: 'op', text: op[1]!, at });
      i += op[1]!.length;
      continue;
    }
    const number = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?/.exec(text.slice(i));
    if (number && /[-+.\d]/.test(c)) {
      tokens.push({ kind: 'number', text: number[0], at });
      i += number[0].length;
      continue;
    }
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i));
    if (word) {
      tokens.push({ kind: 'word', text: word[0], at });
      i += word[0].length;
      continue;
    }
    fail(at, `unexpected character ${quoteInput(c)}`);
  }
  tokens.push({ kind: 'end', text: '', at: text.length });
  return tokens;
}
