import type { Generated, Insertable, Selectable } from 'kysely';
import type { Timestamp } from './material.table.js';

export type ApiTokenRole = 'reader' | 'curator' | 'admin';

/** An API token; only the SHA-256 hex of its secret is stored. */
export interface ApiTokenTable {
  id: Generated<string>;
  name: string;
  role: ApiTokenRole;
  token_hash: string;
  created_at: Timestamp;
  created_by: string | null;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

export type ApiTokenRow = Selectable<ApiTokenTable>;
export type NewApiTokenRow = Insertable<ApiTokenTable>;
