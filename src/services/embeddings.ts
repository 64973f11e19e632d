/**
 * Embeddings of materials under a model: the serving-model cache, embedding structures on the
 * fly (screening uploads), and filling in materials that a model has no embedding for yet
 * (materials added after training; a model just activated). `db` is always the first argument.
 */
import { availableParallelism } from 'node:os';
import type { Logger } from 'pino';
import { buildCrystalGraph, type CrystalGraph } from '../graph/index.js';
import { embedStructureBatch, embedStructures, initBackend, loadModel, type KnagcnModel, type ModelArtifact } from '../model/index.js';
import { embeddingWidth, graphOptions, readsCompositions } from '../model/hyperparameters.js';
import { graphOfMaterial } from '../training/every-row.js';
import { ParallelEmbedder, ThreadChoice } from '../training/parallel.js';
import type { Db } from '../store/database.js';
import { findEmbeddingRows, insertEmbeddingRows, listEmbeddableMaterials, type EmbeddableMaterialRow } from '../store/embedding.repository.js';
import { findActiveModelRow, findModelWeights } from '../store/model.repository.js';
import type { EmbeddingDistance } from '../store/model.table.js';
import { parseVectorLiteral, toVectorLiteral } from '../store/vector.js';
import type { Structure } from '../structure/structure.js';
import { ModelNotReadyError, NotFoundError } from '../errors.js';
import { ID_PATTERN } from '../ids.js';
import type { EmbedMaterialsPayload } from '../jobs/tasks.js';
import type { MaterialEmbedding } from './model-training.js';
import { ensureModelIndex, getActiveModel, getModel } from './models.js';

/** Structures per forward pass / per database page when embedding many materials. */
export const EMBED_BATCH_SIZE = 64;

export interface ServingModel {
  id: string;
  model: KnagcnModel;
  embeddingDim: number;
  distance: EmbeddingDistance;
  /** Calibrated decision threshold on the score R (null: use the paper's 1). */
  threshold: number | null;
}

// ---------------------------------------------------------------------------------------------
// Serving-model cache

/**
 * Loaded models by id. A READY model's weights never change, so an entry never goes stale; the
 * oldest is evicted (and its tensors freed) beyond this many. Loading takes ~0.1–1 s per model.
 */
export const SERVING_MODEL_CACHE_SIZE = 4;
const servingModels = new Map<string, Promise<ServingModel>>();

/**
 * The loaded model `modelId`, from the in-process cache or the database. Throws NotFoundError,
 * or ModelNotReadyError for a model that is not READY.
 */
export function getServingModel(db: Db, modelId: string): Promise<ServingModel> {
  const cached = servingModels.get(modelId);
  if (cached) {
    // Refresh its place in the LRU order.
    servingModels.delete(modelId);
    servingModels.set(modelId, cached);
    return cached;
  }
  const loading = (async (): Promise<ServingModel> => {
    const row = await findModelWeights(db, modelId);
    if (!row) throw new NotFoundError('model', modelId);
    if (row.status !== 'READY' || !row.weights) throw new ModelNotReadyError(modelId, row.status);
    await initBackend('auto');
    const model = loadModel(row.weights as ModelArtifact);
    return {
      id: String(row.id),
      model,
      embeddingDim: row.embedding_dim ?? embeddingWidth(model.hyperparameters),
      distance: row.distance,
      threshold: row.threshold,
    };
  })();
  servingModels.set(modelId, loading);
  loading.catch(() => servingModels.delete(modelId));
  while (servingModels.size > SERVING_MODEL_CACHE_SIZE) {
    const [oldestId, oldest] = servingModels.entries().next().value as [string, Promise<ServingModel>];
    servingModels.delete(oldestId);
    oldest.then((s) => s.model.dispose(), () => {});
  }
  return loading;
}

/** Drops every cached model (tests; a process that wants its memory back). */
export async function clearServingModels(): Promise<void> {
  const all = [...servingModels.values()];
  servingModels.clear();
  for (const p of all) await p.then((s) => s.model.dispose(), () => {});
}

// ---------------------------------------------------------------------------------------------
// Embedding structures

/** One embedding [E] per structure, in order (graphs built with the model's k). */
/** Embeddings of formulas through a model's composition pathway (null where a formula cannot be read). */
export function embedFormulas(model: KnagcnModel, formulas: readonly string[]): (Float32Array | null)[] {
  const graphs: CrystalGraph[] = [];
  const position: number[] = [];
  formulas.forEach((formula, i) => {
    try {
      graphs.push(graphOfMaterial({ structure: null, formula }, model.hyperparameters));
      position.push(i);
    } catch {
      // An unreadable formula was refused on input; a stored one that fails is skipped like a bad graph.
    }
  });
  const out: (Float32Array | null)[] = formulas.map(() => null);
  if (graphs.length > 0) embedStructures(model, graphs, { batchSize: EMBED_BATCH_SIZE }).forEach((v, r) => (out[position[r]!] = v));
  return out;
}

export function embedStructuresWithModel(model: KnagcnModel, structures: readonly Structure[]): Float32Array[] {
  const graphs: CrystalGraph[] = structures.map((s) => buildCrystalGraph(s, graphOptions(model.hyperparameters)));
  return embedStructures(model, graphs, { batchSize: EMBED_BATCH_SIZE });
}

export interface EmbedMaterialsProgress {
  done: number;
}

interface EmbedPagesOptions {
  /** Only materials without an embedding for this model. */
  missingFor?: string;
  signal?: AbortSignal;
  logger?: Logger;
  onBatch?: (embeddings: MaterialEmbedding[]) => Promise<void>;
  /** Embeddings already computed with this model, by material id (the training crystals'): reused. */
  known?: ReadonlyMap<string, Float32Array>;
  /**
   * 'auto' (default): on the wasm backend with ≥ 2 cores, a job that fills its first page starts a
   * second thread (ParallelEmbedder) and uses it for the pages where it measurably helps
   * (ThreadChoice); native backends thread internally. 1: this thread only.
   */
  threads?: 1 | 'auto';
}

/** How many pages of a job ran on one thread and on two. */
export interface PagesByThreads {
  oneThread: number;
  twoThreads: number;
}

/** Pages smaller than this are not timed for the thread choice (too noisy). */
const MIN_TIMED_PAGE = 8;

/**
 * Walks every STRUCTURE material (keyset pages of EMBED_BATCH_SIZE) and embeds it. A structure
 * whose graph cannot be built is skipped and logged (it would fail the same way every time).
 *
 * The database work overlaps the model's: the next page is read while this one is embedded, and a
 * page's `onBatch` (the writes) runs while the next is embedded — at most one of each in flight,
 * `onBatch` calls in page order, and every write finished (or its error thrown) before this returns.
 */
async function embedPages(
  db: Db,
  model: KnagcnModel,
  opts: EmbedPagesOptions,
): Promise<{ embedded: MaterialEmbedding[]; skipped: string[]; pages: PagesByThreads }> {
  const embedded: MaterialEmbedding[] = [];
  const skipped: string[] = [];
  const pages: PagesByThreads = { oneThread: 0, twoThreads: 0 };
  const twoThreads = opts.threads !== 1 && (await initBackend('auto')).name === 'wasm' && availableParallelism() >= 2;
  let embedder: Promise<ParallelEmbedder | null> | undefined;
  const choice = new ThreadChoice();
  const compositions = readsCompositions(model.hyperparameters);
  let afterId: string | null = null;
  const readPage = (after: string | null) => {
    const reading = listEmbeddableMaterials(db, { afterId: after, limit: EMBED_BATCH_SIZE, missingFor: opts.missingFor, compositions });
    // Awaited in the next turn of the loop; this only keeps an abandoned read from being "unhandled".
    reading.catch(() => {});
    return reading;
  };
  let nextPage: Promise<EmbeddableMaterialRow[]> | null = readPage(null);
  let writing: Promise<void> | null = null;
  try {
    for (;;) {
      opts.signal?.throwIfAborted();
      const page: EmbeddableMaterialRow[] = await nextPage!;
      nextPage = null;
      if (page.length === 0) break;
      if (afterId === null && twoThreads && page.length === EMBED_BATCH_SIZE) {
        embedder = ParallelEmbedder.start(model).catch((error: unknown) => {
          opts.logger?.warn({ err: (error as Error).message }, 'embedding worker did not start; embedding on one thread');
          return null;
        });
      }
      afterId = page[page.length - 1]!.id;
      nextPage = readPage(afterId);
      const formulaOnly = page.filter((m) => m.structure === null && !opts.known?.has(m.id));
      const todo = page.filter((m) => m.structure !== null && !opts.known?.has(m.id));
      const structures = todo.map((m) => m.structure as Structure);
      const parallel = choice.next() === 2 && embedder ? await embedder : null;
      const started = performance.now();
      const result = parallel
        ? await parallel.embed(structures, { batchSize: EMBED_BATCH_SIZE })
        : embedStructureBatch(model, structures, { batchSize: EMBED_BATCH_SIZE });
      if (structures.length >= MIN_TIMED_PAGE) choice.record(parallel ? 2 : 1, structures.length, (performance.now() - started) / 1000);
      pages[parallel ? 'twoThreads' : 'oneThread']++;
      const vectors = new Map(page.flatMap((m) => (opts.known?.has(m.id) ? [[m.id, opts.known.get(m.id)!] as const] : [])));
      // Formula-only materials go through the composition pathway: no graph search, cheap on this thread.
      embedFormulas(model, formulaOnly.map((m) => m.formula)).forEach((vector, i) => {
        if (vector) vectors.set(formulaOnly[i]!.id, vector);
        else skipped.push(formulaOnly[i]!.id);
      });
      todo.forEach((m, i) => {
        const vector = result.vectors[i];
        if (vector) vectors.set(m.id, vector);
        else {
          skipped.push(m.id);
          opts.logger?.warn({ materialId: m.id, err: result.errors[i] }, 'material skipped: no crystal graph');
        }
      });
      const batch = page.flatMap((m) => (vectors.has(m.id) ? [{ materialId: m.id, vector: vectors.get(m.id)! }] : []));
      embedded.push(...batch);
      // The previous page's writes first: their error stops the walk, and writes stay in page order.
      await writing;
      writing = null;
      if (opts.onBatch) {
        writing = opts.onBatch(batch);
        writing.catch(() => {});
      }
      // Let heartbeats and requests run between pages.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    await writing;
  } finally {
    // Nothing in flight outlives the walk (an error above leaves at most one read and one write).
    await Promise.allSettled([nextPage, writing]);
    await (await embedder)?.terminate();
  }
  return { embedded, skipped, pages };
}

/**
 * Embeddings of every STRUCTURE material under a saved artifact (a model not yet in the
 * database: the trainer's fresh model, the shipped default). The caller writes them.
 */
export async function embedAllStructureMaterials(
  db: Db,
  artifactOrModel: ModelArtifact | KnagcnModel,
  opts: Pick<EmbedPagesOptions, 'signal' | 'logger' | 'known' | 'threads'> = {},
): Promise<MaterialEmbedding[]> {
  await initBackend('auto');
  const owned = 'format' in artifactOrModel;
  const model = owned ? loadModel(artifactOrModel) : artifactOrModel;
  try {
    return (await embedPages(db, model, opts)).embedded;
  } finally {
    if (owned) model.dispose();
  }
}

/**
 * Embeddings of every material the model can read (structures; formula-only ones too when it reads
 * compositions) through `embed` (a model that lives elsewhere: the trainer's child process), one
 * database page at a time, so the database work between pages stays short. Materials that cannot
 * be embedded are skipped and logged. The caller writes them.
 */
export async function embedAllMaterialsWith(
  db: Db,
  hyperparameters: Parameters<typeof readsCompositions>[0],
  embed: (items: { structure: Structure | null; formula: string }[]) => Promise<{ vectors: (Float32Array | null)[]; errors: (string | null)[] }>,
  opts: Pick<EmbedPagesOptions, 'signal' | 'logger' | 'known'> = {},
): Promise<MaterialEmbedding[]> {
  const embedded: MaterialEmbedding[] = [];
  const compositions = readsCompositions(hyperparameters);
  let afterId: string | null = null;
  for (;;) {
    opts.signal?.throwIfAborted();
    const page = await listEmbeddableMaterials(db, { afterId, limit: EMBED_BATCH_SIZE, compositions });
    if (page.length === 0) break;
    afterId = page[page.length - 1]!.id;
    const todo = page.filter((m) => !opts.known?.has(m.id));
    const result = todo.length > 0 ? await embed(todo.map((m) => ({ structure: (m.structure as Structure | null) ?? null, formula: m.formula }))) : { vectors: [], errors: [] };
    const vectors = new Map<string, Float32Array>();
    todo.forEach((m, i) => {
      const vector = result.vectors[i];
      if (vector) vectors.set(m.id, vector);
      else opts.logger?.warn({ materialId: m.id, err: result.errors[i] }, 'material skipped: cannot be embedded');
    });
    for (const m of page) {
      const vector = opts.known?.get(m.id) ?? vectors.get(m.id);
      if (vector) embedded.push({ materialId: m.id, vector });
    }
  }
  return embedded;
}

export interface EmbedMissingResult {
  modelId: string;
  embedded: number;
  skipped: string[];
  pages: PagesByThreads;
}

/**
 * Embeds the STRUCTURE materials that have no embedding for `modelId` (a READY model), one page
 * at a time (each page committed on its own: an interrupted run loses at most one page of work),
 * then makes sure the model's HNSW index exists.
 */
export async function embedMissingMaterials(
  db: Db,
  modelId: string,
  opts: Pick<EmbedPagesOptions, 'signal' | 'logger' | 'threads'> = {},
): Promise<EmbedMissingResult> {
  const serving = await getServingModel(db, modelId);
  let embedded = 0;
  const { skipped, pages } = await embedPages(db, serving.model, {
    ...opts,
    missingFor: modelId,
    onBatch: async (batch) => {
      embedded += await insertEmbeddingRows(
        db,
        batch.map((e) => ({ model_id: modelId, material_id: e.materialId, vec: toVectorLiteral(e.vector) })),
      );
    },
  });
  await ensureModelIndex(db, { id: modelId, embeddingDim: serving.embeddingDim, distance: serving.distance });
  return { modelId, embedded, skipped, pages };
}

// Queueing the job lives in embedding-jobs.ts (no TF.js); re-exported for the callers that import it from here.
export { queueEmbeddingOfNewMaterials } from './embedding-jobs.js';

/** The model an embed_materials job is for: the one named, else the active one (null: none). */
export async function resolveEmbeddingModelId(db: Db, payload: EmbedMaterialsPayload): Promise<string | null> {
  if (payload.modelId) return payload.modelId;
  const active = await findActiveModelRow(db);
  return active ? String(active.id) : null;
}

/**
 * Stored embedding vectors of materials under a model (the active one when `modelId` is null),
 * one per key in key order, null where the material has none. For maps of the embedding space.
 */
export async function embeddingsOfMaterials(
  db: Db,
  modelId: string | null,
  materialIds: readonly string[],
): Promise<(Float32Array | null)[]> {
  const model = modelId ? await getModel(db, modelId) : await getActiveModel(db);
  if (!model) {
    if (modelId) throw new NotFoundError('model', modelId);
    return materialIds.map(() => null);
  }
  const ids = materialIds.filter((id) => ID_PATTERN.test(id));
  const rows = await findEmbeddingRows(db, model.id, ids);
  const byId = new Map(rows.map((row) => [String(row.material_id), parseVectorLiteral(row.vec)]));
  return materialIds.map((id) => byId.get(id) ?? null);
}
