/**
 * Label writes under load (src/screening/index.ts): concurrent writes on one database handle go
 * in group transactions (one screening update for many labels), a group with a failing write is
 * retried one by one, and background folds gather the events of a burst into one fold.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { sql } from 'kysely';
import { NotFoundError } from '../../src/errors.js';
import { labelMaterialWithScreening, screeningFoldsIdle } from '../../src/services/screening.js';
import { readScreeningView } from '../../src/store/screening/index.js';
import { describeDatabases, resetDatabase } from '../support/databases.js';
import { assertSameRanking, readWholeRanking, recomputeRanking, seedScreenedModel } from './fixtures.js';

const DIM = 4;

describeDatabases('label groups and fold coalescing', (database) => {
  let modelId: string;
  let candidates: string[];

  before(async () => {
    const { db } = database();
    await screeningFoldsIdle(db);
    await resetDatabase(db);
    const seeded = await seedScreenedModel(db, { dim: DIM, count: 40, labelled: 6, seed: 5 });
    modelId = seeded.modelId;
    candidates = seeded.materialIds.slice(6);
  });

  /** Transactions that recorded screening events (each writes one change-feed row for screening_event). */
  async function eventTransactions(): Promise<number> {
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from change_log where table_name = 'screening_event'`.execute(database().db);
    return rows[0]!.n;
  }

  test('concurrent label writes share transactions; each is acknowledged with its own label, in arrival order per material', async () => {
    const { db } = database();
    const before = await eventTransactions();
    const targets = candidates.slice(0, 12);
    // The first write starts a transaction at once; the other eleven arrive while it runs and go together.
    const writes = targets.map((materialId, i) => labelMaterialWithScreening(db, { materialId, class: i % 2 === 0 ? 'FAST' : 'POOR', source: 'group' }));
    // Two writes of one material in the same group: the later one is its current label.
    writes.push(labelMaterialWithScreening(db, { materialId: targets[1]!, class: 'FAST', source: 'group, later' }));
    const labels = await Promise.all(writes);
    assert.deepEqual(labels.map((l) => l.materialId), [...targets, targets[1]]);
    assert.deepEqual(labels.map((l) => l.class), [...targets.map((_, i) => (i % 2 === 0 ? 'FAST' : 'POOR')), 'FAST']);
    assert.ok(BigInt(labels.at(-1)!.id) > BigInt(labels[1]!.id), 'the later write of a material gets the later label');
    assert.equal(await eventTransactions(), before + 2, 'two screening updates for thirteen writes');
    const { rows } = await sql<{ cls: string }>`select current_label_class as cls from material where id = ${targets[1]}::bigint`.execute(db);
    assert.equal(rows[0]!.cls, 'FAST');
    // The ranking is the one the labels imply (the oracle recomputes R from the raw embeddings).
    await screeningFoldsIdle(db);
    assertSameRanking(await readWholeRanking(db, { modelId }, 7), await recomputeRanking(db, modelId), 'after grouped labels');
  });

  test('a group with a failing write is retried one by one: the others are written, the failing one gets its own error', async () => {
    const { db } = database();
    const targets = candidates.slice(12, 18);
    const first = labelMaterialWithScreening(db, { materialId: targets[0]!, class: 'POOR', source: 'alone' });
    const group = targets.slice(1).map((materialId) => labelMaterialWithScreening(db, { materialId, class: 'POOR', source: 'group' }));
    const missing = labelMaterialWithScreening(db, { materialId: '999999999', class: 'FAST', source: 'no such material' });
    const results = await Promise.allSettled([first, ...group, missing]);
    assert.deepEqual(results.map((r) => r.status), [...targets.map(() => 'fulfilled'), 'rejected']);
    assert.ok((results.at(-1) as PromiseRejectedResult).reason instanceof NotFoundError);
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from material where id = any(${targets}::bigint[]) and current_label_class = 'POOR'`.execute(db);
    assert.equal(rows[0]!.n, targets.length);
    await screeningFoldsIdle(db);
    assertSameRanking(await readWholeRanking(db, { modelId }, 7), await recomputeRanking(db, modelId), 'after a failed group');
  });

  test('a burst of labels is folded once: the background fold waits for more events', async () => {
    const { db } = database();
    await screeningFoldsIdle(db);
    const start = (await readScreeningView(db, modelId))!;
    assert.equal(start.events.length, 0);
    for (const materialId of candidates.slice(18, 22)) await labelMaterialWithScreening(db, { materialId, class: 'FAST', source: 'burst' });
    // Four labels, each acknowledged: their events wait for the fold (scores already include them).
    assert.equal((await readScreeningView(db, modelId))!.events.length, 4);
    await screeningFoldsIdle(db);
    const folded = (await readScreeningView(db, modelId))!;
    assert.equal(folded.events.length, 0);
    assert.equal(folded.state.previous_snapshot_id, start.state.snapshot_id, 'one fold took all four events');
    assertSameRanking(await readWholeRanking(db, { modelId }, 7), await recomputeRanking(db, modelId), 'after the fold');
  });
});
