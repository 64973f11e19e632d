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

/** A new model's embedding before the model is published (migrations/2026_12_07_1700_create_embedding_stage.ts). */
export type EmbeddingStageTable = EmbeddingTable;
