/**
 * Shared set-up of the screening tests: a READY model with synthetic embeddings, and the oracle
 * that recomputes R from the raw embeddings with src/scoring (the one definition of the score).
 */
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { scoreAgainstNearest, scoreAgainstReferences, type DistanceMetric, type RatioDistance } from '../../src/scoring/index.js';
import { rescoreModel, screen, type ReferenceSpec, type ScreenInput } from '../../src/services/screening.js';
import type { Db } from '../../src/store/database.js';
import type { LabelClass } from '../../src/store/material.table.js';
import { parseVectorLiteral, toVectorLiteral } from '../../src/store/vector.js';
import { seededRandom } from '../support/crystals.js';

/** Agreement required between the API and the recompute (float32 vectors, float64 sums). */
export const SCORE_TOLERANCE = 1e-5;

export async function insertModel(
  db: Db,
  opts: { dim: number; distance?: DistanceMetric; distanceScale?: number | null; status?: string; active?: boolean; weights?: unknown; threshold?: number | null },
): Promise<string> {
  const row = await db
    .insertInto('model')
    .values({
      name: `m${Math.random().toString(36).slice(2, 8)}`,
      hyperparameters: '{}',
      embedding_dim: opts.dim,
      distance: opts.distance ?? 'EUCLIDEAN',
      distance_scale: opts.distanceScale ?? null,
      status: (opts.status ?? 'READY') as never,
      is_active: opts.active ?? false,
      threshold: opts.threshold ?? null,
      weights: opts.weights === undefined ? null : JSON.stringify(opts.weights),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return String(row.id);
}

/** `count` composition materials (their formula only matters to filters: every 3rd has S). */
export async function insertMaterials(db: Db, count: number): Promise<string[]> {
  const rows = Array.from({ length: count }, (_, i) => {
    const withS = i % 3 === 0;
    return {
      kind: 'COMPOSITION' as const,
      formula: withS ? `Li${i + 1}S` : `Li${i + 1}O`,
      reduced_formula: withS ? `Li${i + 1}S` : `Li${i + 1}O`,
      elements: withS ? ['Li', 'S'] : ['Li', 'O'],
      nelements: 2,
      natoms: i + 2,
    };
  });
  const inserted = await db.insertInto('material').values(rows).returning('id').execute();
  return inserted.map((r) => String(r.id));
}

/** Seeded float32 vectors (exactly representable, so the database stores what the oracle uses). */
export function randomVectors(count: number, dim: number, seed: number): Float32Array[] {
  const rnd = seededRandom(seed);
  return Array.from({ length: count }, () => Float32Array.from({ length: dim }, () => rnd() * 2 - 1));
}

export async function insertEmbeddings(db: Db, modelId: string, materialIds: readonly string[], vectors: readonly Float32Array[]): Promise<void> {
  await db
    .insertInto('embedding')
    .values(materialIds.map((id, i) => ({ model_id: modelId, material_id: id, vec: toVectorLiteral(vectors[i]!) })))
    .execute();
}

/** Sets labels without any screening hook (as a seed or a script would). */
export async function setLabelsDirectly(db: Db, labels: ReadonlyMap<string, LabelClass>): Promise<void> {
  if (labels.size === 0) return;
  await db
    .insertInto('label')
    .values([...labels].map(([materialId, cls]) => ({ material_id: materialId, class: cls })))
    .execute();
  for (const cls of ['FAST', 'POOR'] as const) {
    const ids = [...labels].filter(([, c]) => c === cls).map(([id]) => id);
    if (ids.length > 0) await db.updateTable('material').set({ current_label_class: cls }).where('id', 'in', ids).execute();
  }
}

export interface OracleRow {
  materialId: string;
  score: number;
  meanDistanceToFast: number;
  meanDistanceToPoor: number;
}

function byScoreThenId(a: OracleRow, b: OracleRow): number {
  if (a.score !== b.score) return b.score - a.score;
  return BigInt(b.materialId) > BigInt(a.materialId) ? 1 : -1;
}

/**
 * R of every unlabelled embedded material recomputed from the raw embeddings and the current
 * labels, ranked like `screen` (score desc, id desc).
 */
export async function recomputeRanking(
  db: Db,
  modelId: string,
  reference: ReferenceSpec = { mode: 'ALL' },
  opts: { plainDistances?: boolean } = {},
): Promise<OracleRow[]> {
  const { rows } = await sql<{ material_id: string; cls: LabelClass | null; vec: string; distance: DistanceMetric; distance_scale: number | null }>`
    select e.material_id::text as material_id, m.current_label_class as cls, e.vec::text as vec, md.distance, md.distance_scale
    from embedding e join material m on m.id = e.material_id join model md on md.id = e.model_id
    where e.model_id = ${modelId}::bigint`.execute(db);
  // The model's distance scale (null: plain distances), unless the caller asks for plain ones.
  const scale = opts.plainDistances || rows[0]?.distance_scale == null ? null : Number(rows[0].distance_scale);
  const metric: RatioDistance = { metric: rows[0]?.distance ?? 'EUCLIDEAN', scale };
  const fast = rows.filter((r) => r.cls === 'FAST').map((r) => parseVectorLiteral(r.vec));
  const poor = rows.filter((r) => r.cls === 'POOR').map((r) => parseVectorLiteral(r.vec));
  return rows
    .filter((r) => r.cls === null)
    .map((r) => {
      const q = parseVectorLiteral(r.vec);
      const s = reference.mode === 'NEAREST' ? scoreAgainstNearest(q, fast, poor, reference.k!, metric) : scoreAgainstReferences(q, fast, poor, metric);
      return { materialId: r.material_id, ...s };
    })
    .sort(byScoreThenId);
}

/** Every page of a screen, checking that pages are ordered, disjoint and ranked 1..n. */
export async function readWholeRanking(db: Db, input: Omit<ScreenInput, 'first' | 'after'>, pageSize: number): Promise<OracleRow[]> {
  const all: OracleRow[] = [];
  let after: string | null = null;
  for (let guard = 0; guard < 1000; guard++) {
    const page = await screen(db, { ...input, first: pageSize, after });
    for (const item of page.items) {
      assert.equal(item.rank, all.length + 1, 'ranks continue across pages');
      const previous = all.at(-1);
      if (previous) assert.ok(byScoreThenId(previous, item) < 0, `page order: ${previous.materialId} before ${item.materialId}`);
      all.push({ materialId: item.materialId, score: item.score, meanDistanceToFast: item.meanDistanceToFast, meanDistanceToPoor: item.meanDistanceToPoor });
    }
    if (!page.hasNextPage) {
      assert.equal(new Set(all.map((r) => r.materialId)).size, all.length, 'no material on two pages');
      return all;
    }
    after = page.endCursor;
  }
  throw new Error('too many pages');
}

export function assertSameRanking(actual: readonly OracleRow[], expected: readonly OracleRow[], context: string): void {
  assert.deepEqual(
    actual.map((r) => r.materialId),
    expected.map((r) => r.materialId),
    `${context}: same candidates in the same order`,
  );
  actual.forEach((row, i) => {
    const want = expected[i]!;
    for (const key of ['score', 'meanDistanceToFast', 'meanDistanceToPoor'] as const) {
      // Relative beyond 1: a candidate next to a FAST reference has a large R (float sums differ in the last digits).
      const tolerance = SCORE_TOLERANCE * Math.max(1, Math.abs(want[key]));
      assert.ok(Math.abs(row[key] - want[key]) <= tolerance, `${context}: ${key} of ${row.materialId}: ${row[key]} vs ${want[key]}`);
    }
  });
}

/**
 * An active READY model over `count` composition materials with seeded vectors, the first
 * `labelled` labelled FAST, POOR, FAST, … (directly), and its screening snapshot built.
 */
export async function seedScreenedModel(
  db: Db,
  opts: { dim: number; count: number; labelled: number; seed: number },
): Promise<{ modelId: string; materialIds: string[] }> {
  const modelId = await insertModel(db, { dim: opts.dim, active: true });
  const materialIds = await insertMaterials(db, opts.count);
  await insertEmbeddings(db, modelId, materialIds, randomVectors(materialIds.length, opts.dim, opts.seed));
  await setLabelsDirectly(db, new Map(materialIds.slice(0, opts.labelled).map((id, i) => [id, i % 2 === 0 ? 'FAST' : 'POOR'] as const)));
  await rescoreModel(db, modelId);
  return { modelId, materialIds };
}
