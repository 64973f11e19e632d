import type { ColumnType, Insertable, Selectable } from 'kysely';

export interface EmbeddingTable {
  model_id: string;
  material_id: string;
  /**
   * pgvector value without a fixed dimension, read and written as its text literal
   * '[x1,x2,…]' (toVectorLiteral / parseVectorLiteral in vector.ts).
   */
  vec: ColumnType<string, string, string>;
}

export type EmbeddingRow = Selectable<EmbeddingTable>;
export type NewEmbeddingRow = Insertable<EmbeddingTable>;
