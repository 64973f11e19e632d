/**
 * Queries on `model` (no logic), plus the training-set query the trainer snapshots.
 * `db` may be a transaction.
 */
import { sql, type UpdateObject } from 'kysely';
import type { Database, Db } from './database.js';
import type { LabelClass } from './material.table.js';
import type { ModelRow, ModelStatus, NewModelRow } from './model.table.js';

/** Every column but the (large) weights artifact. */
const SUMMARY_COLUMNS = [
  'id',
  'name',
  'status',
  'is_active',
  'hyperparameters',
  'backend',
  'embedding_dim',
  'distance',
  'threshold',
  'distance_scale',
  'progress',
  'training_curve',
  'metrics',
  'label_counts',
  'label_snapshot',
  'error',
  'created_by',
  'created_at',
  'started_at',
  'finished_at',
] as const;

export type ModelSummaryRow = Omit<ModelRow, 'weights'>;

export async function insertModelRow(db: Db, row: NewModelRow): Promise<ModelSummaryRow> {
  return db.insertInto('model').values(row).returning(SUMMARY_COLUMNS).executeTakeFirstOrThrow();
}

export function findModelRow(db: Db, id: string): Promise<ModelSummaryRow | undefined> {
  return db.selectFrom('model').select(SUMMARY_COLUMNS).where('id', '=', id).executeTakeFirst();
}

export function findModelRowsByIds(db: Db, ids: readonly string[]): Promise<ModelSummaryRow[]> {
  if (ids.length === 0) return Promise.resolve([]);
  return db.selectFrom('model').select(SUMMARY_COLUMNS).where('id', 'in', [...ids]).execute();
}

/** Locks the row until the end of the transaction. */
export function lockModelRow(db: Db, id: string): Promise<ModelSummaryRow | undefined> {
  return db.selectFrom('model').select(SUMMARY_COLUMNS).where('id', '=', id).forUpdate().executeTakeFirst();
}

/** The saved artifact (and what is needed to use it). */
export function findModelWeights(
  db: Db,
  id: string,
): Promise<Pick<ModelRow, 'id' | 'status' | 'weights' | 'embedding_dim' | 'distance' | 'threshold'> | undefined> {
  return db
    .selectFrom('model')
    .select(['id', 'status', 'weights', 'embedding_dim', 'distance', 'threshold'])
    .where('id', '=', id)
    .executeTakeFirst();
}

/** Newest first. */
export function listModelRows(db: Db, filter: { status?: ModelStatus } = {}): Promise<ModelSummaryRow[]> {
  let query = db.selectFrom('model').select(SUMMARY_COLUMNS);
  if (filter.status) query = query.where('status', '=', filter.status);
  return query.orderBy('id', 'desc').execute();
}

export function findActiveModelRow(db: Db): Promise<ModelSummaryRow | undefined> {
  return db.selectFrom('model').select(SUMMARY_COLUMNS).where('is_active', '=', true).executeTakeFirst();
}

export function findModelRowByNameAndCreator(db: Db, name: string, createdBy: string): Promise<ModelSummaryRow | undefined> {
  return db
    .selectFrom('model')
    .select(SUMMARY_COLUMNS)
    .where('name', '=', name)
    .where('created_by', '=', createdBy)
    .orderBy('id', 'desc')
    .executeTakeFirst();
}

/** Updates the row only while its status is one of `fromStatuses` (when given); returns the new row or undefined. */
export async function updateModelRow(
  db: Db,
  id: string,
  update: UpdateObject<Database, 'model'>,
  fromStatuses?: readonly ModelStatus[],
): Promise<ModelSummaryRow | undefined> {
  let query = db.updateTable('model').set(update).where('id', '=', id);
  if (fromStatuses) query = query.where('status', 'in', [...fromStatuses]);
  return query.returning(SUMMARY_COLUMNS).executeTakeFirst();
}

export async function deactivateOtherModels(db: Db, keepId: string | null): Promise<void> {
  let query = db.updateTable('model').set({ is_active: false }).where('is_active', '=', true);
  if (keepId !== null) query = query.where('id', '!=', keepId);
  await query.execute();
}

/**
 * Serialises every change of the active model (activate, first READY model, default install):
 * the partial unique index allows at most one active row, and this transaction-scoped advisory
 * lock makes concurrent activations wait instead of failing on that index.
 */
export async function lockActiveModelSlot(db: Db): Promise<void> {
  await sql`select pg_advisory_xact_lock(${ACTIVE_MODEL_LOCK_KEY})`.execute(db);
}

/** Arbitrary constant key of the advisory lock above ("ionsieve" in ASCII, truncated to int4). */
const ACTIVE_MODEL_LOCK_KEY = 0x696f6e73;

/** The job attempt a write belongs to: it applies only while that worker still holds the job. */
export interface JobOwner {
  jobId: string;
  workerId: string;
}

/**
 * Appends one point to `training_curve` and replaces `progress`, only while TRAINING (and, with
 * `owner`, only while that worker still holds the job: a worker that was paused past its lease
 * must not write into the curve of the worker that took the job over).
 */
export async function recordTrainingProgress(
  db: Db,
  id: string,
  progress: Record<string, unknown>,
  curvePoint: Record<string, unknown> | null,
  owner?: JobOwner,
): Promise<boolean> {
  let query = db
    .updateTable('model')
    .set({
      progress: JSON.stringify(progress),
      ...(curvePoint
        ? { training_curve: sql`coalesce(training_curve, '[]'::jsonb) || ${JSON.stringify([curvePoint])}::jsonb` }
        : {}),
    })
    .where('id', '=', id)
    .where('status', '=', 'TRAINING');
  if (owner) query = query.where(sql<boolean>`exists (${jobHeldSql(owner)})`);
  const result = await query.executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

const jobHeldSql = (owner: JobOwner) =>
  sql`select 1 from job where id = ${owner.jobId} and status = 'RUNNING' and locked_by = ${owner.workerId}`;

/** An update value: the row's progress as it was, with phase DONE and no ETA. */
export function progressMarkedDone() {
  return sql<string>`coalesce(progress, '{}'::jsonb) || '{"phase": "DONE", "etaSeconds": null}'::jsonb`;
}

/** Whether a QUEUED job of `kind` exists for this model (payload.modelId, or none = the active model). */
export async function queuedJobExists(db: Db, kind: string, modelId: string): Promise<boolean> {
  const { rows } = await sql<{ id: string }>`
    select id from job where kind = ${kind} and status = 'QUEUED'
      and coalesce(payload->>'modelId', ${modelId}) = ${modelId} limit 1`.execute(db);
  return rows.length > 0;
}

export async function notify(db: Db, channel: string, payload: string): Promise<void> {
  await sql`select pg_notify(${channel}, ${payload})`.execute(db);
}

// ---------------------------------------------------------------------------------------------
// The training set

export interface TrainingRow {
  labelId: string;
  materialId: string;
  class: LabelClass;
  structure: unknown;
  formula: string;
  family: string | null;
}

type TrainingRowSql = { label_id: string; material_id: string; class: LabelClass; structure: unknown; formula: string; family: string | null };

const toTrainingRow = (r: TrainingRowSql): TrainingRow => ({
  labelId: String(r.label_id),
  materialId: String(r.material_id),
  class: r.class,
  structure: r.structure,
  formula: r.formula,
  family: r.family,
});

/**
 * Every material with a current label (structures and formula-only materials), with that label's id (the newest label row of
 * the material that is not a retraction and not retracted), ordered by material id.
 */
export async function findCurrentTrainingRows(db: Db): Promise<TrainingRow[]> {
  const { rows } = await sql<TrainingRowSql>`
    select distinct on (l.material_id) l.id as label_id, l.material_id, l.class, m.structure, m.formula, m.family
    from label l join material m on m.id = l.material_id
    where l.class is not null
      and not exists (select 1 from label r where r.retracts_label_id = l.id)
    order by l.material_id, l.id desc`.execute(db);
  return rows.map(toTrainingRow);
}

/** The rows of a recorded snapshot (label rows are append-only, so ids keep their meaning). */
export async function findTrainingRowsByLabelIds(db: Db, labelIds: readonly string[]): Promise<TrainingRow[]> {
  if (labelIds.length === 0) return [];
  const { rows } = await sql<TrainingRowSql>`
    select l.id as label_id, l.material_id, l.class, m.structure, m.formula, m.family
    from label l join material m on m.id = l.material_id
    where l.id = any(${sql.val([...labelIds])}::bigint[]) and l.class is not null
    order by l.material_id, l.id`.execute(db);
  return rows.map(toTrainingRow);
}

/** The train_model jobs of a model still waiting or running (payload.modelId). */
export async function findOpenTrainingJobIds(db: Db, modelId: string): Promise<string[]> {
  const { rows } = await sql<{ id: string }>`
    select id from job
    where kind = 'train_model' and payload->>'modelId' = ${modelId} and status in ('QUEUED', 'RUNNING')`.execute(db);
  return rows.map((r) => String(r.id));
}

/**
 * Models still QUEUED/TRAINING although none of their train_model jobs can run any more (the
 * job's attempts were spent by workers that died, so the lease reaper failed it): FAILED, with
 * the job's last error. Returns their ids.
 */
export async function failOrphanedTrainingRows(db: Db): Promise<string[]> {
  const { rows } = await sql<{ id: string }>`
    update model m set status = 'FAILED', finished_at = now(),
      error = coalesce((select j.last_error from job j where j.kind = 'train_model' and j.payload->>'modelId' = m.id::text
                        order by j.id desc limit 1), 'training job lost'),
      progress = coalesce(m.progress, '{}'::jsonb) || '{"phase": "DONE", "etaSeconds": null}'::jsonb
    where m.status in ('QUEUED', 'TRAINING')
      and not exists (select 1 from job j where j.kind = 'train_model' and j.payload->>'modelId' = m.id::text
                      and j.status in ('QUEUED', 'RUNNING'))
      and m.created_at < now() - interval '5 seconds'
    returning m.id`.execute(db);
  return rows.map((r) => String(r.id));
}

/** Locks a job row and says whether `workerId` still holds it (RUNNING, locked by it). */
export async function jobStillHeldBy(db: Db, jobId: string, workerId: string): Promise<boolean> {
  const { rows } = await sql<{ id: string }>`
    select id from job where id = ${jobId} and status = 'RUNNING' and locked_by = ${workerId} for update`.execute(db);
  return rows.length === 1;
}
