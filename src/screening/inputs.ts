/** Checks of screening's inputs, and the opaque `screen` cursor. */
import { BadInputError, NotFoundError } from '../errors.js';
import { parseId, ID_PATTERN } from '../ids.js';
import { toRowFilter, type MaterialFilter } from '../services/materials.js';
import type { CandidateFilter } from '../store/screening/index.js';
import { MAX_NEIGHBOURS } from './limits.js';
import type { ReferenceSpec } from './types.js';

export function checkK(k: unknown, field: string): number {
  if (typeof k !== 'number' || !Number.isInteger(k) || k < 1 || k > MAX_NEIGHBOURS) {
    throw new BadInputError(`${field} must be an integer in 1..${MAX_NEIGHBOURS}, got ${String(k)}`, { field });
  }
  return k;
}

export function checkMaterialId(id: unknown): string {
  const text = parseId(id);
  if (text === null) throw new NotFoundError('material', String(id));
  return text;
}

export function resolveReference(reference: ReferenceSpec | null | undefined): Required<ReferenceSpec> {
  const mode = reference?.mode ?? 'ALL';
  if (mode === 'ALL') {
    if (reference?.k !== undefined && reference.k !== null) throw new BadInputError('reference.k applies to mode NEAREST only', { field: 'reference.k' });
    return { mode, k: null };
  }
  if (mode !== 'NEAREST') throw new BadInputError(`unknown reference mode ${String(mode)}`, { field: 'reference.mode' });
  if (reference?.k === undefined || reference.k === null) throw new BadInputError('reference mode NEAREST needs k', { field: 'reference.k' });
  return { mode, k: checkK(reference.k, 'reference.k') };
}

/**
 * The material filter of a screen, checked (materials.ts `toRowFilter`, the one filter check).
 * Only unlabelled materials are candidates, so `label` may only be UNLABELLED.
 */
export function toCandidateFilter(filter: MaterialFilter | null | undefined): CandidateFilter {
  if (!filter) return {};
  if (filter.label !== undefined && filter.label !== null && filter.label !== 'UNLABELLED') {
    throw new BadInputError('screen ranks unlabelled materials only: filter.label may only be UNLABELLED', { field: 'filter.label' });
  }
  const { currentLabelClass: _label, kind: _kind, ...columns } = toRowFilter(filter, 'filter.');
  // Only the keys given: an empty object means "no filter" to the page code.
  return Object.fromEntries(Object.entries(columns).filter(([, value]) => value !== undefined)) as CandidateFilter;
}

export function checkMinScore(minScore: number | null | undefined): number | null {
  if (minScore === undefined || minScore === null) return null;
  if (typeof minScore !== 'number' || Number.isNaN(minScore)) throw new BadInputError('minScore must be a number', { field: 'minScore' });
  return minScore;
}


export interface ScreenCursor {
  score: number;
  materialId: string;
  rank: number;
}

/** Opaque cursor: base64 of "screen:<score>:<id>:<rank>" (score as JS writes it, Infinity included). */
export function encodeScreenCursor(c: ScreenCursor): string {
  return Buffer.from(`screen:${String(c.score)}:${c.materialId}:${c.rank}`, 'utf8').toString('base64');
}

export function decodeScreenCursor(cursor: string | null | undefined): ScreenCursor | null {
  if (cursor === null || cursor === undefined || cursor === '') return null;
  const parts = Buffer.from(String(cursor), 'base64').toString('utf8').split(':');
  const [prefix, scoreText, materialId, rankText] = parts;
  const score = Number(scoreText);
  const rank = Number(rankText);
  const decoded = { score, materialId: materialId ?? '', rank };
  if (
    parts.length !== 4 ||
    prefix !== 'screen' ||
    Number.isNaN(score) ||
    !ID_PATTERN.test(decoded.materialId) ||
    !Number.isInteger(rank) ||
    rank < 1 ||
    encodeScreenCursor(decoded) !== cursor
  ) {
    throw new BadInputError(`invalid cursor ${JSON.stringify(String(cursor).slice(0, 60))}`, { field: 'after' });
  }
  return decoded;
}

