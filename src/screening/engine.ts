/**
 * The screening engine of a database handle. It owns the state that lives between requests: the
 * background folds in flight (single flight per model) and the label writes waiting for a group
 * transaction. The server takes the engine of its database handle once, at start (src/server.ts),
 * and hands it to every request in the GraphQL context; code that holds only a database handle (CLI
 * commands, the trainer, tests) reaches the same engine through `screeningEngine(db)`. One engine
 * per handle: folds are single-flight per (handle, model), and label groups share a handle's pool.
 *
 * It is also the one writer of labels: a label or a retraction is written together with the
 * screening update of the materials it touches, in one transaction (label-writes.ts writes the rows).
 */
import { inTransaction, type Db } from '../store/database.js';
import { ID_PATTERN } from '../ids.js';
import type { LabelMaterialInput, LabelRecord } from '../services/materials.js';
import { insertLabel, insertRetraction } from './label-writes.js';
import { FOLD_COALESCE_MS, MAX_LABEL_GROUP, MAX_PENDING_EVENTS } from './limits.js';
import { foldScreening, syncScreeningLabels, type SyncResult } from './maintenance.js';

export type FoldMode = 'background' | 'inline' | 'none';

export interface LabelWriteOptions {
  /** When to fold the events this write recorded (default background; inline above MAX_PENDING_EVENTS). */
  fold?: FoldMode;
  onFoldError?: (error: unknown) => void;
  /** Head size (tests: a small head exercises pages served by the exact pass). */
  headSize?: number;
}

interface FoldSlot {
  running: Promise<void>;
  /** Fold (once more) after the current wait or fold. */
  again: boolean;
  /** Ends the current wait now, and skips later ones (tests, shutdown). */
  hurry(): void;
}

interface QueuedLabel {
  input: LabelMaterialInput;
  actor: string | undefined;
  opts: LabelWriteOptions;
  resolve(label: LabelRecord): void;
  reject(error: unknown): void;
}

interface LabelQueue {
  waiting: QueuedLabel[];
  running: boolean;
}

/**
 * A label and the screening update of its material, in the caller's transaction: when it commits,
 * every candidate's score under every screened model reflects the label.
 */
async function labelInTransaction(tx: Db, items: readonly { input: LabelMaterialInput; actor: string | undefined }[], headSize?: number) {
  const labels: LabelRecord[] = [];
  for (const item of items) labels.push(await insertLabel(tx, item.input, item.actor));
  const results = await syncScreeningLabels(tx, { materialIds: [...new Set(labels.map((l) => l.materialId))], headSize });
  return { labels, results };
}

export class ScreeningEngine {
  /** One fold at a time per model; a request during a fold queues one more. */
  private readonly foldSlots = new Map<string, FoldSlot>();
  /** Label writes waiting for a group transaction, per write options. */
  private readonly labelQueues = new Map<string, LabelQueue>();

  constructor(readonly db: Db) {}

  /**
   * Folds the model's pending events in the background of this process (single flight per model),
   * after waiting `delayMs` (FOLD_COALESCE_MS) for more. Errors go to `onError` (the fold is retried
   * at the next request). Resolves when done.
   */
  requestFold(modelId: string, onError: (error: unknown) => void = () => {}, delayMs: number = FOLD_COALESCE_MS): Promise<void> {
    const slots = this.foldSlots;
    const existing = slots.get(modelId);
    if (existing) {
      existing.again = true;
      return existing.running;
    }
    let hurried = false;
    let wake = () => {};
    const slot: FoldSlot = {
      running: Promise.resolve(),
      again: true,
      hurry() {
        hurried = true;
        wake();
      },
    };
    slot.running = (async () => {
      while (slot.again) {
        // Let the caller's response go out first; then gather the events of the next delayMs.
        await new Promise<void>((resolve) => {
          if (hurried || delayMs <= 0) return void setImmediate(resolve);
          // Unref'd: a process that exits meanwhile leaves the events pending (scores are exact
          // either way); the next fold of any process takes them.
          const timer = setTimeout(resolve, delayMs);
          timer.unref();
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        // Requests until now are covered by this fold; later ones ask for another.
        slot.again = false;
        try {
          await foldScreening(this.db, modelId);
        } catch (error) {
          onError(error);
        }
      }
      slots.delete(modelId);
    })();
    slots.set(modelId, slot);
    return slot.running;
  }

  /** Runs the background folds requested now and resolves when none is left (tests, shutdown). */
  async foldsIdle(): Promise<void> {
    for (;;) {
      const slots = [...this.foldSlots.values()];
      if (slots.length === 0) return;
      for (const slot of slots) slot.hurry();
      await Promise.all(slots.map((s) => s.running));
    }
  }

  /**
   * Writes a label (the material's new current label) with the screening update, in one transaction.
   *
   * Group commit: label writes that arrive while a label transaction runs wait for it and then go
   * together, in one transaction with one screening update — the update (references, events, head)
   * costs the same for one label as for fifty, and under load it is what limits how many labels a
   * second go through. Each write is still acknowledged only after the commit that holds it. A group
   * that fails (bad input, a material deleted meanwhile) is retried one write at a time, so each
   * caller gets its own answer.
   */
  labelMaterial(input: LabelMaterialInput, actor?: string, opts: LabelWriteOptions = {}): Promise<LabelRecord> {
    // Writes with different options never share a transaction.
    const key = `${opts.fold ?? 'background'}|${opts.headSize ?? ''}`;
    let queue = this.labelQueues.get(key);
    if (!queue) this.labelQueues.set(key, (queue = { waiting: [], running: false }));
    const q = queue;
    return new Promise<LabelRecord>((resolve, reject) => {
      q.waiting.push({ input, actor, opts, resolve, reject });
      if (!q.running) void this.runLabelGroups(q);
    });
  }

  /** Retracts a label (the material's current label falls back) with the screening update, in one transaction. */
  async retractLabel(labelId: string, actor?: string, reason?: string, opts: LabelWriteOptions = {}): Promise<LabelRecord> {
    const { label, results } = await inTransaction(this.db, async (tx) => {
      const label = await insertRetraction(tx, labelId, actor, reason);
      return { label, results: await syncScreeningLabels(tx, { materialIds: [label.materialId], headSize: opts.headSize }) };
    });
    await this.afterEvents(results, opts);
    return label;
  }

  private async afterEvents(results: readonly SyncResult[], opts: LabelWriteOptions): Promise<void> {
    for (const { modelId, recorded, pending } of results) {
      if (recorded === 0) continue;
      const mode = pending > MAX_PENDING_EVENTS ? 'inline' : (opts.fold ?? 'background');
      if (mode === 'inline') await foldScreening(this.db, modelId);
      else if (mode === 'background') void this.requestFold(modelId, opts.onFoldError);
    }
  }

  private async labelOne(input: LabelMaterialInput, actor: string | undefined, opts: LabelWriteOptions): Promise<LabelRecord> {
    const { labels, results } = await inTransaction(this.db, (tx) => labelInTransaction(tx, [{ input, actor }], opts.headSize));
    await this.afterEvents(results, opts);
    return labels[0]!;
  }

  private async runLabelGroups(queue: LabelQueue): Promise<void> {
    queue.running = true;
    try {
      while (queue.waiting.length > 0) {
        const group = queue.waiting.splice(0, MAX_LABEL_GROUP);
        if (group.length === 1) {
          const [one] = group;
          await this.labelOne(one!.input, one!.actor, one!.opts).then(one!.resolve, one!.reject);
          continue;
        }
        // Material rows are locked in id order (a stable sort keeps each material's writes in arrival
        // order), as every group does: two processes' groups cannot deadlock on them.
        // (Array.prototype.sort is stable; an id that is not one sorts first and fails the group.)
        const lockOrder = (materialId: unknown) => (ID_PATTERN.test(String(materialId)) ? BigInt(String(materialId)) : 0n);
        const ordered = group
          .map((item) => ({ item, id: lockOrder(item.input.materialId) }))
          .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
        let committed: { labels: LabelRecord[]; results: SyncResult[] };
        try {
          committed = await inTransaction(this.db, (tx) => labelInTransaction(tx, ordered.map(({ item }) => item), group[0]!.opts.headSize));
        } catch {
          // Nothing of the group was written: one at a time, each with its own outcome.
          for (const item of group) await this.labelOne(item.input, item.actor, item.opts).then(item.resolve, item.reject);
          continue;
        }
        try {
          await this.afterEvents(committed.results, group[0]!.opts);
        } catch (error) {
          // As for a single write: committed, but the fold it had to run failed.
          for (const item of group) item.reject(error);
          continue;
        }
        ordered.forEach(({ item }, i) => item.resolve(committed.labels[i]!));
      }
    } finally {
      queue.running = false;
    }
  }
}

/** The one registry of engines, by database handle. */
const engines = new WeakMap<Db, ScreeningEngine>();

/** The engine of a database handle, made on its first use (the server's start, for a server). */
export function screeningEngine(db: Db): ScreeningEngine {
  let engine = engines.get(db);
  if (!engine) engines.set(db, (engine = new ScreeningEngine(db)));
  return engine;
}

// Function forms, for callers that hold a database handle or a transaction.

/**
 * Writes a label with the screening update of its material. Inside a caller's transaction it is
 * part of that transaction (the caller folds later); otherwise it goes through the handle's engine.
 */
export async function labelMaterial(db: Db, input: LabelMaterialInput, actor?: string, opts: LabelWriteOptions = {}): Promise<LabelRecord> {
  if (db.isTransaction) return (await labelInTransaction(db, [{ input, actor }], opts.headSize)).labels[0]!;
  return screeningEngine(db).labelMaterial(input, actor, opts);
}

/** Retracts a label with the screening update of its material (see labelMaterial). */
export async function retractLabel(db: Db, labelId: string, actor?: string, reason?: string, opts: LabelWriteOptions = {}): Promise<LabelRecord> {
  if (db.isTransaction) {
    const label = await insertRetraction(db, labelId, actor, reason);
    await syncScreeningLabels(db, { materialIds: [label.materialId], headSize: opts.headSize });
    return label;
  }
  return screeningEngine(db).retractLabel(labelId, actor, reason, opts);
}

export function requestScreeningFold(db: Db, modelId: string, onError?: (error: unknown) => void, delayMs?: number): Promise<void> {
  return screeningEngine(db).requestFold(modelId, onError, delayMs);
}

export function screeningFoldsIdle(db: Db): Promise<void> {
  return screeningEngine(db).foldsIdle();
}
