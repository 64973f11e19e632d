/**
 * Row ids: PostgreSQL bigint serials, carried as decimal strings (a JS number loses digits above
 * 2^53). The one check of their text form; every layer that takes an id from outside uses it.
 */

import { BadInputError } from './errors.js';

/** A positive bigint in decimal, without sign or leading zeros, at most 18 digits (< 2^63). */
export const ID_PATTERN = /^[1-9]\d{0,17}$/;

/** Whether `value` (a string, number or bigint) is the text of a valid id. */
export function isId(value: unknown): value is string {
  return typeof value === 'string' && ID_PATTERN.test(value);
}

/** The id's text when `value` is one (strings are trimmed; numbers and bigints are written out), else null. */
export function parseId(value: unknown): string | null {
  const text = typeof value === 'number' || typeof value === 'bigint' ? String(value) : typeof value === 'string' ? value.trim() : '';
  return ID_PATTERN.test(text) ? text : null;
}

/** A model id from an argument, or BadInputError naming it (models are looked up by id everywhere). */
export function checkModelId(id: unknown): string {
  const text = parseId(id);
  if (text === null) throw new BadInputError(`invalid model id ${JSON.stringify(String(id)).slice(0, 40)}`, { field: 'id' });
  return text;
}
