/**
 * Entry point for structure text: input limits, dispatch by format, then validation.
 */
import { BadInputError, quoteInput, StructureParseError } from '../errors.js';
import type { ParseOptions } from './types.js';
import type { Structure, StructureFormat } from './structure.js';
import { readCif } from './cif.js';
import { readPoscar } from './poscar.js';
import { readStructureJson } from './optimade-json.js';
import { DEFAULT_MAX_SITES, MAX_ROWS_PER_SITE, validateStructure } from './validate.js';

export const DEFAULT_MAX_TEXT_BYTES = 5 * 1024 * 1024;

/** Share of control characters above which a text is taken for binary data. */
const MAX_CONTROL_CHAR_FRACTION = 0.05;

function checkText(format: StructureFormat, text: string, maxTextBytes: number): void {
  if (typeof text !== 'string') throw new BadInputError(`${format}: structure text must be a string`);
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > maxTextBytes) {
    throw new StructureParseError(format, `text is too large: ${bytes} bytes > maxTextBytes ${maxTextBytes}`);
  }
  if (text.trim().length === 0) throw new StructureParseError(format, 'empty text');
  if (text.includes('\u0000')) throw new StructureParseError(format, 'binary text: contains NUL bytes');
  let control = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // Tab, LF, VT, FF and CR are ordinary whitespace; U+FFFD marks bytes that were not UTF-8.
    if ((c < 32 && !(c >= 9 && c <= 13)) || c === 0x7f || c === 0xfffd) control++;
  }
  if (control > 0 && control / text.length > MAX_CONTROL_CHAR_FRACTION) {
    throw new StructureParseError(format, `binary text: ${control} non-printable characters`);
  }
}

/**
 * Parses CIF, POSCAR/CONTCAR (VASP 5) or JSON (OPTIMADE or pymatgen-like) text into a validated
 * Structure. Throws StructureParseError (a BadInputError, code BAD_USER_INPUT) naming the problem.
 */
export function parseStructure(format: StructureFormat, text: string, opts: ParseOptions = {}): Structure {
  const maxSites = opts.maxSites ?? DEFAULT_MAX_SITES;
  const maxTextBytes = opts.maxTextBytes ?? DEFAULT_MAX_TEXT_BYTES;
  checkText(format, text, maxTextBytes);
  // A UTF-8 byte-order mark (Windows editors) is not part of any of the three formats.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let raw: Structure;
  switch (format) {
    case 'CIF':
      // Co-located rows are merged later, so allow headroom for mixed sites before giving up.
      raw = readCif(text, { maxRawSites: maxSites * MAX_ROWS_PER_SITE });
      break;
    case 'POSCAR':
      raw = readPoscar(text, { maxSites });
      break;
    case 'JSON':
      raw = readStructureJson(text);
      break;
    default:
      throw new BadInputError(`unknown structure format ${quoteInput(String(format))} (expected CIF, POSCAR or JSON)`);
  }
  return validateStructure(format, raw, { maxSites });
}
