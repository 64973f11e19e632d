/**
 * Queueing the embedding of new materials: no TF.js here, so the writers of materials (addMaterials,
 * the file and OPTIMADE imports) can call it inside their insert transaction.
 */
import { enqueueJobOnce } from '../jobs/queue.js';
import { EMBED_MATERIALS_TASK, type EmbedMaterialsPayload } from '../jobs/tasks.js';
import type { Db } from '../store/database.js';
import { findActiveModelRow, queuedJobExists } from '../store/model.repository.js';

/**
 * After materials were added (addMaterials, import): queue one embed_materials job for the active
 * model, unless there is no active model or such a job is already waiting. Cheap; call it in the
 * transaction that added the materials (the job commits with them). The job key (`model:<id>`)
 * makes concurrent callers queue one job; a queued job without a key (activation) also counts.
 * Returns whether a job was queued.
 */
export async function queueEmbeddingOfNewMaterials(db: Db): Promise<boolean> {
  const active = await findActiveModelRow(db);
  if (!active) return false;
  if (await queuedJobExists(db, EMBED_MATERIALS_TASK, String(active.id))) return false;
  const payload: EmbedMaterialsPayload = { modelId: String(active.id) };
  return (await enqueueJobOnce(db, EMBED_MATERIALS_TASK, payload, `model:${active.id}`)) !== null;
}
