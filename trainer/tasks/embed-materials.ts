/**
 * The `embed_materials` task: embeds the structure materials that a READY model has no embedding
 * for yet (materials added after training, a model just activated). Payload: { modelId? }; without
 * one, the model active when the job runs. Idempotent: re-running finds nothing missing.
 */
import type { Task } from '../../src/jobs/worker.js';
import { embedMissingMaterials, resolveEmbeddingModelId } from '../../src/services/embeddings.js';
import type { EmbedMaterialsPayload } from '../../src/services/models.js';
import { syncScreeningEmbeddings } from '../../src/services/screening.js';

export function createEmbedMaterialsTask(): Task<EmbedMaterialsPayload> {
  return async (job, { db, logger, signal }) => {
    const modelId = await resolveEmbeddingModelId(db, job.payload ?? {});
    if (!modelId) {
      logger.info('no active model; nothing to embed');
      return { skipped: 'no active model' };
    }
    const started = performance.now();
    const result = await embedMissingMaterials(db, modelId, { signal, logger });
    // New materials join the model's stored screening ranking (no-op when it has none yet).
    const screened = await syncScreeningEmbeddings(db, modelId);
    logger.info({ ...result, skipped: result.skipped.length, screened, ms: Math.round(performance.now() - started) }, 'materials embedded');
    return result;
  };
}
