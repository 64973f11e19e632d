/** Scores that are not stored: a material's (Material.screening), an uploaded structure's, a formula's. */
import { BadInputError, ScreeningNotReadyError } from '../errors.js';
import { boundedDistance, ratioScore } from '../scoring/index.js';
import { readsCompositions } from '../model/hyperparameters.js';
import { embedFormulas, embedStructuresWithModel, getServingModel } from '../services/embeddings.js';
import type { Db } from '../store/database.js';
import { DIRECT_READS, type SharedReads } from '../store/shared-reads.js';
import { exactMaterialRows, nearestMeansOfMaterials, nearestReferences, referenceSums } from '../store/screening/index.js';
import { toVectorLiteral } from '../store/vector.js';
import { parseComposition, parseStructure } from '../structure/index.js';
import { ID_PATTERN } from '../ids.js';
import { resolveReference } from './inputs.js';
import { loadScreening, snapshotSpec, vectorSpec } from './model.js';
import { openScreening } from './open.js';
import { currentCounts, netChanges, requireReferences } from './pending.js';
import { scoreRecord } from './ranking.js';
import type { ReferenceSpec, ScreeningModel, ScreeningResult, ScreeningScore, StructureLimits, StructureText } from './types.js';

/**
 * The current score of each material under a model (Material.screening), in key order; null for
 * a material without an embedding under the model, or when a class has no reference. A labelled
 * material gets its leave-self-out score.
 */
export async function screeningOfMaterials(
  db: Db,
  opts: { modelId?: string | null; reference?: ReferenceSpec | null },
  materialIds: readonly string[],
  reads: SharedReads = DIRECT_READS,
): Promise<(ScreeningResult | null)[]> {
  const reference = resolveReference(opts.reference);
  const { model, view } = await openScreening(db, opts.modelId, reads);
  const ids = [...new Set(materialIds.filter((id) => ID_PATTERN.test(id)))];
  const results = new Map<string, ScreeningScore>();
  if (reference.mode === 'NEAREST') {
    for (const row of await nearestMeansOfMaterials(db, vectorSpec(model), reference.k!, ids)) {
      if (row.n_fast === 0 || row.n_poor === 0) continue;
      const { score } = ratioScore(row.mean_fast!, row.mean_poor!);
      results.set(row.material_id, scoreRecord(score, row.mean_fast!, row.mean_poor!, model.threshold));
    }
  } else {
    const changes = netChanges(view.events);
    const counts = currentCounts(view.state, changes);
    for (const row of await exactMaterialRows(db, snapshotSpec(view.state), changes, ids)) {
      // Leave-self-out: a reference's own sums exclude it, so its counts do too.
      const nFast = counts.nFast - (row.class_now === 'FAST' ? 1 : 0);
      const nPoor = counts.nPoor - (row.class_now === 'POOR' ? 1 : 0);
      if (nFast < 1 || nPoor < 1) continue;
      const meanFast = Math.max(0, row.sum_fast) / nFast;
      const meanPoor = Math.max(0, row.sum_poor) / nPoor;
      results.set(row.material_id, scoreRecord(ratioScore(meanFast, meanPoor).score, meanFast, meanPoor, model.threshold));
    }
  }
  return materialIds.map((id) => {
    const score = results.get(id);
    return score ? { ...score, modelId: model.id, threshold: model.threshold, reference, materialId: id, vector: null } : null;
  });
}

/** The k nearest FAST references of each stored material (itself excluded), in key order. */

/** Parses and embeds an uploaded structure with the model's weights, in this process. */
export async function embedStructureText(db: Db, model: ScreeningModel, structure: StructureText, limits: StructureLimits): Promise<string> {
  if (!structure || typeof structure.text !== 'string') throw new BadInputError('structure text must be a string', { field: 'structure' });
  const parsed = parseStructure(structure.format, structure.text, limits);
  const serving = await getServingModel(db, model.id);
  const [vector] = embedStructuresWithModel(serving.model, [parsed]);
  if (!vector || vector.length !== model.dim) throw new Error(`model ${model.id} produced an embedding of ${vector?.length} components, expected ${model.dim}`);
  return toVectorLiteral(vector);
}


/** R of an uploaded structure against the model's current references; nothing is stored. */
export async function scoreStructure(
  db: Db,
  input: { structure: StructureText; modelId?: string | null; reference?: ReferenceSpec | null },
  limits: StructureLimits,
): Promise<ScreeningResult> {
  const reference = resolveReference(input.reference);
  const { model } = await openScreening(db, input.modelId);
  return scoreVector(db, model, await embedStructureText(db, model, input.structure, limits), reference);
}

/**
 * R of a material known only by its formula, embedded through the model's composition pathway
 * (models that read compositions), against the model's current references; nothing is stored.
 */
export async function scoreComposition(
  db: Db,
  input: { formula: string; modelId?: string | null; reference?: ReferenceSpec | null },
): Promise<ScreeningResult> {
  const reference = resolveReference(input.reference);
  if (typeof input.formula !== 'string' || input.formula.trim() === '') throw new BadInputError('formula must be a non-empty chemical formula', { field: 'formula' });
  parseComposition(input.formula); // BadInputError naming the problem before any model work
  const { model, view } = await loadScreening(db, input.modelId);
  const serving = await getServingModel(db, model.id);
  if (!readsCompositions(serving.model.hyperparameters)) {
    throw new BadInputError(`model ${model.id} embeds structures only (no composition pathway); score a structure, or use a model trained with one`, { modelId: model.id });
  }
  if (!view) throw new ScreeningNotReadyError(model.id);
  const [vector] = embedFormulas(serving.model, [input.formula]);
  if (!vector || vector.length !== model.dim) throw new Error(`model ${model.id} produced an embedding of ${vector?.length} components, expected ${model.dim}`);
  return scoreVector(db, model, toVectorLiteral(vector), reference);
}

/** R of an embedding (a pgvector literal) against the model's current references. */
async function scoreVector(db: Db, model: ScreeningModel, vector: string, reference: Required<ReferenceSpec>): Promise<ScreeningResult> {
  const spec = vectorSpec(model);
  let meanFast: number;
  let meanPoor: number;
  if (reference.mode === 'ALL') {
    const sums = await referenceSums(db, spec, vector);
    requireReferences(model, { nFast: sums.nFast, nPoor: sums.nPoor });
    meanFast = sums.sumFast / sums.nFast;
    meanPoor = sums.sumPoor / sums.nPoor;
  } else {
    const [fast, poor] = [
      await nearestReferences(db, spec, { vec: vector }, 'FAST', reference.k!, null),
      await nearestReferences(db, spec, { vec: vector }, 'POOR', reference.k!, null),
    ];
    requireReferences(model, { nFast: fast.length, nPoor: poor.length });
    // The neighbours come with plain distances (their order is the bounded one's too).
    const mean = (rows: { distance: number }[]) => rows.reduce((s, r) => s + boundedDistance(r.distance, model.distanceScale), 0) / rows.length;
    meanFast = mean(fast);
    meanPoor = mean(poor);
  }
  const { score } = ratioScore(meanFast, meanPoor);
  return { ...scoreRecord(score, meanFast, meanPoor, model.threshold), modelId: model.id, threshold: model.threshold, reference, materialId: null, vector };
}

