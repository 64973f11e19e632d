/** Shared set-up of the trainer tests: a tiny labelled set and a tiny, fast training configuration. */
import { pino } from 'pino';
import { addMaterials, type MaterialRecord } from '../../src/services/materials.js';
import { labelMaterial } from '../../src/services/screening.js';
import { getModel, type ModelRecord, type ModelStatus, type TrainModelInput } from '../../src/services/models.js';
import type { Db } from '../../src/store/database.js';
import { cubicStructureJson } from '../support/structures.js';

export const silentLogger = pino({ level: 'silent' });

/** A model small enough to train in about a second (k = 4 fits cells of 3 atoms with their images). */
export const TINY_TRAINING: TrainModelInput = {
  name: 'tiny',
  k: 4,
  layers: 1,
  featureLength: 8,
  denseLength: 8,
  embeddingDim: 4,
  // One network: the tests are about the job's life cycle, not the ensemble.
  members: 1,
  maxEpochs: 2,
  batchSize: 8,
  seed: 7,
  // Most trainer tests are about the life cycle; the held-out evaluation has tests of its own.
  evaluation: 'NONE',
};

export const LIMITS = { maxSites: 100, maxTextBytes: 100_000, maxBatchSize: 100 };

const FAST_ELEMENTS = ['Li', 'Li', 'S'];
const POOR_ELEMENTS = ['Li', 'O', 'La'];
let nextEdge = 0;

/** Adds structure materials (distinct cubic cells, 3 atoms each); returns them in order. */
export async function addStructures(db: Db, count: number, kind: 'FAST' | 'POOR' = 'POOR'): Promise<MaterialRecord[]> {
  const inputs = Array.from({ length: count }, () => ({
    structure: { format: 'JSON' as const, text: cubicStructureJson(3 + 0.05 * nextEdge++, kind === 'FAST' ? FAST_ELEMENTS : POOR_ELEMENTS) },
  }));
  return addMaterials(db, inputs, LIMITS);
}

export interface TinySet {
  fast: MaterialRecord[];
  poor: MaterialRecord[];
  unlabelled: MaterialRecord[];
  /** Every structure material. */
  structures: MaterialRecord[];
  /** The unlabelled material known only by its formula. */
  formula: MaterialRecord;
  /**
   * Every material the DEFAULT preset embeds: the structures and the formula (its composition
   * pathway reads formulas; a structure-only preset embeds `structures`).
   */
  embeddable: MaterialRecord[];
}

/** `fast` FAST and `poor` POOR labelled structures, `unlabelled` unlabelled ones and one composition. */
export async function seedTinySet(db: Db, counts: { fast: number; poor: number; unlabelled: number }): Promise<TinySet> {
  const fast = await addStructures(db, counts.fast, 'FAST');
  const poor = await addStructures(db, counts.poor, 'POOR');
  const unlabelled = await addStructures(db, counts.unlabelled, 'FAST');
  for (const m of fast) await labelMaterial(db, { materialId: m.id, class: 'FAST' });
  for (const m of poor) await labelMaterial(db, { materialId: m.id, class: 'POOR' });
  const [formula] = await addMaterials(db, [{ composition: 'Li7La3Zr2O12' }], LIMITS);
  const structures = [...fast, ...poor, ...unlabelled];
  return { fast, poor, unlabelled, structures, formula: formula!, embeddable: [...structures, formula!] };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function waitFor<T>(what: string, fn: () => Promise<T | null | undefined | false>, ms = 60_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

export function waitForModelStatus(db: Db, id: string, statuses: readonly ModelStatus[], ms?: number): Promise<ModelRecord> {
  return waitFor(`model ${id} to be ${statuses.join('/')}`, async () => {
    const model = await getModel(db, id);
    return model && statuses.includes(model.status) ? model : null;
  }, ms);
}
