/**
 * Installing the shipped default model (data/models/default, written by `ionsieve train-default`):
 * a READY model with every structure material embedded, then its screening scores, so that the
 * first `screen` of a fresh database is a page read. The seed and `start` call it.
 *
 * It imports the embedding service and with it TF.js: entry points import this file lazily.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DomainError } from '../errors.js';
import type { Logger } from '../logger.js';
import { EMBED_MATERIALS_TASK, type EmbedMaterialsPayload } from '../jobs/tasks.js';
import { enqueueJob } from '../jobs/queue.js';
import { embeddingWidth, resolveStoredHyperparameters, type ModelArtifact } from '../model/index.js';
import { rescoreModel } from '../screening/maintenance.js';
import { inTransaction, type Db } from '../store/database.js';
import { findMaterialIdsBySourceIds, insertEmbeddingRows } from '../store/embedding.repository.js';
import { findCurrentLabelRows } from '../store/label.repository.js';
import { findActiveModelRow, findModelRowByNameAndCreator, insertModelRow, lockActiveModelSlot } from '../store/model.repository.js';
import { toVectorLiteral } from '../store/vector.js';
import { embedAllStructureMaterials } from './embeddings.js';
import {
  DEFAULT_MODEL_CREATOR,
  DEFAULT_MODEL_DIR,
  ensureModelIndex,
  modelRowToRecord,
  readEvaluation,
  type DefaultModelManifest,
  type ModelEvaluation,
  type ModelProgress,
  type ModelRecord,
} from './models.js';

export interface InstallDefaultModelResult {
  model: ModelRecord;
  installed: boolean;
  embeddings: number;
}

/**
 * Installs data/models/default as a READY model (active when no model is), with embeddings of
 * every structure material, in one transaction; then builds its index. Idempotent: a model of
 * the same name created by the seed is returned as it is. Returns null when the folder has no
 * model. Materials added while it embeds are picked up by the embed_materials job it queues.
 */
export async function installDefaultModel(db: Db, dataDir: string): Promise<InstallDefaultModelResult | null> {
  const dir = join(dataDir, DEFAULT_MODEL_DIR);
  let manifestText: string;
  try {
    manifestText = await readFile(join(dir, 'manifest.json'), 'utf8');
  } catch {
    return null;
  }
  const manifest = JSON.parse(manifestText) as DefaultModelManifest;
  const existing = await findModelRowByNameAndCreator(db, manifest.name, DEFAULT_MODEL_CREATOR);
  if (existing) return { model: modelRowToRecord(existing), installed: false, embeddings: 0 };
  const artifact = JSON.parse(await readFile(join(dir, 'artifact.json'), 'utf8')) as ModelArtifact;
  const embeddings = await embedAllStructureMaterials(db, artifact);

  // The seeded labels of the training crystals stand in for the snapshot the trainer records.
  const bySourceId = await findMaterialIdsBySourceIds(db, manifest.trainingIds);
  const materialIds = [...bySourceId.values()];
  const stored = readEvaluation({ metrics: Array.isArray(manifest.metrics) ? manifest.metrics : [manifest.metrics] });
  const evaluation: ModelEvaluation = {
    metrics: stored.metrics,
    decision: manifest.decision ?? null,
    noHeldOutReason: manifest.heldOutNote ?? null,
    outOfFold: (manifest.outOfFold ?? []).flatMap((o) => {
      const materialId = bySourceId.get(o.sourceId);
      return materialId ? [{ materialId: String(materialId), label: o.label, score: o.score, fold: o.fold }] : [];
    }),
  };
  const labelIds = (await findCurrentLabelRows(db, materialIds)).map((l) => String(l.id));

  const record = await inTransaction(db, async (tx) => {
    await lockActiveModelSlot(tx);
    const again = await findModelRowByNameAndCreator(tx, manifest.name, DEFAULT_MODEL_CREATOR);
    if (again) return { model: modelRowToRecord(again), installed: false };
    const becomesActive = (await findActiveModelRow(tx)) === undefined;
    // A manifest written before a hyperparameter existed lacks it (e.g. members): fill in what reproduces it.
    const h = resolveStoredHyperparameters(manifest.hyperparameters);
    const row = await insertModelRow(tx, {
      name: manifest.name,
      status: 'READY',
      is_active: becomesActive,
      hyperparameters: JSON.stringify(h),
      backend: manifest.backend,
      embedding_dim: embeddingWidth(h),
      distance: h.distance,
      threshold: manifest.threshold,
      distance_scale: manifest.distanceScale ?? null,
      metrics: JSON.stringify(evaluation),
      training_curve: JSON.stringify(manifest.trainingCurve),
      label_counts: JSON.stringify(manifest.labelCounts),
      label_snapshot: JSON.stringify(labelIds),
      progress: JSON.stringify({
        phase: 'DONE',
        epoch: manifest.epochs,
        maxEpochs: h.maxEpochs,
        trainLoss: manifest.trainingCurve.at(-1)?.trainLoss ?? null,
        validationLoss: manifest.trainingCurve.at(-1)?.validationLoss ?? null,
        etaSeconds: 0,
      } satisfies ModelProgress),
      weights: JSON.stringify(artifact),
      created_by: DEFAULT_MODEL_CREATOR,
      created_at: new Date(),
      started_at: new Date(manifest.createdAt),
      finished_at: new Date(manifest.createdAt),
    });
    await insertEmbeddingRows(
      tx,
      embeddings.map((e) => ({ model_id: String(row.id), material_id: e.materialId, vec: toVectorLiteral(e.vector) })),
    );
    // Its screening scores commit with it, so the first `screen` is a page read (reads never build them).
    await rescoreModel(tx, String(row.id));
    if (becomesActive) await enqueueJob(tx, EMBED_MATERIALS_TASK, { modelId: String(row.id) } satisfies EmbedMaterialsPayload);
    return { model: modelRowToRecord(row), installed: true };
  });
  if (record.installed) await ensureModelIndex(db, record.model);
  return { ...record, embeddings: record.installed ? embeddings.length : 0 };
}

/**
 * installDefaultModel (the model with its screening scores). Logs and returns quietly when the seed
 * folder ships no model or it is already installed, and warns (without failing) when the shipped
 * artifact does not fit this build.
 */
export async function installShippedModel(ctx: { db: Db; logger: Logger }, seedDir: string): Promise<void> {
  const started = performance.now();
  let result;
  try {
    result = await installDefaultModel(ctx.db, seedDir);
  } catch (error) {
    // An artifact from another backbone version or element table: serve without it rather than not at all.
    if (!(error instanceof DomainError)) throw error;
    ctx.logger.warn({ err: error.message, seedDir }, 'shipped model not installed; retrain it with `ionsieve train-default`');
    return;
  }
  if (!result) ctx.logger.warn({ seedDir }, `no shipped model in ${join(seedDir, DEFAULT_MODEL_DIR)}; train one with \`ionsieve train-default\``);
  else if (!result.installed) ctx.logger.debug({ modelId: result.model.id }, 'default model already installed');
  else {
    ctx.logger.info(
      { modelId: result.model.id, active: result.model.isActive, embeddings: result.embeddings, seconds: (performance.now() - started) / 1000 },
      'default model installed and scored',
    );
  }
}
