/** Names of the screening store: snapshot tables are `screening_snapshot_<id>`; only integer ids reach SQL. */
import { BadInputError } from '../../errors.js';
import { ID_PATTERN } from '../../ids.js';

/** The id's text, or BadInputError: table and index names are spliced into SQL. */
export function checkId(id: string | number | bigint, what: string): string {
  const text = String(id);
  if (!ID_PATTERN.test(text)) throw new BadInputError(`invalid ${what} ${text}`);
  return text;
}

export function snapshotTableName(snapshotId: string | number | bigint): string {
  return `screening_snapshot_${checkId(snapshotId, 'snapshot id')}`;
}

/** `screening_snapshot_<id>`, the id captured. */
export const SNAPSHOT_TABLE_PATTERN = new RegExp(`^screening_snapshot_(${ID_PATTERN.source.slice(1, -1)})$`);
