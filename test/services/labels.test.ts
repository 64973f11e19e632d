import assert from 'node:assert/strict';
import { beforeEach, test } from 'node:test';
import { BadInputError, ConflictError, NotFoundError } from '../../src/errors.js';
import {
  addMaterials,
  currentLabelsByMaterialIds,
  getMaterial,
  labelsByIds,
  labelsByMaterialIds,
  listLabels,
  listMaterials,
  type LabelRecord,
} from '../../src/services/materials.js';
import { labelMaterial, retractLabel } from '../../src/services/screening.js';
import { describeDatabases, resetDatabase } from '../support/databases.js';
import { cubicStructureJson } from '../support/structures.js';

const LIMITS = { maxSites: 2000, maxTextBytes: 1 << 20, maxBatchSize: 100 };

describeDatabases('labels service', (database) => {
  beforeEach(async () => resetDatabase(database().db));

  async function materials(count: number): Promise<string[]> {
    const added = await addMaterials(
      database().db,
      Array.from({ length: count }, (_, i) => ({ structure: { format: 'JSON' as const, text: cubicStructureJson(4 + i / 10) } })),
      LIMITS,
    );
    return added.map((m) => m.id);
  }

  const cachedClass = async (id: string) => (await getMaterial(database().db, id)).currentLabelClass;

  test('labels, retractions and the current label (with its cached class)', async () => {
    const { db } = database();
    const [m] = await materials(1);
    const fast = await labelMaterial(
      db,
      { materialId: m!, class: 'FAST', conductivitySPerCm: 1.2e-3, temperatureK: 298.15, source: 'doi:10.1/x', reason: 'paper' },
      'alice',
    );
    assert.equal(fast.class, 'FAST');
    assert.equal(fast.conductivitySPerCm, 1.2e-3);
    assert.equal(fast.temperatureK, 298.15);
    assert.equal(fast.createdBy, 'alice');
    assert.equal(fast.retracted, false);
    assert.equal(await cachedClass(m!), 'FAST');

    const poor = await labelMaterial(db, { materialId: m!, class: 'POOR', conductivitySPerCm: 1e-8 }, 'bob');
    assert.equal(await cachedClass(m!), 'POOR');
    assert.equal((await currentLabelsByMaterialIds(db, [m!]))[0]!.id, poor.id);

    // Retracting the newest label makes the previous one current again.
    const retracted = await retractLabel(db, poor.id, 'carol', 'wrong sample');
    assert.equal(retracted.id, poor.id);
    assert.equal(retracted.retracted, true);
    assert.equal(retracted.class, 'POOR');
    assert.equal(await cachedClass(m!), 'FAST');
    assert.equal((await currentLabelsByMaterialIds(db, [m!]))[0]!.id, fast.id);

    await assert.rejects(retractLabel(db, poor.id), ConflictError);
    const history = (await labelsByMaterialIds(db, [m!]))[0]!;
    const retraction = history[0]!;
    assert.equal(retraction.class, null);
    assert.equal(retraction.retractsLabelId, poor.id);
    assert.equal(retraction.reason, 'wrong sample');
    assert.equal(retraction.createdBy, 'carol');
    await assert.rejects(retractLabel(db, retraction.id), BadInputError);

    // Retracting the last label leaves the material unlabelled.
    await retractLabel(db, fast.id);
    assert.equal(await cachedClass(m!), null);
    assert.deepEqual(await currentLabelsByMaterialIds(db, [m!]), [null]);
    const all = (await labelsByMaterialIds(db, [m!]))[0]!;
    assert.equal(all.length, 4);
    assert.deepEqual(
      all.map((l) => [l.class, l.retracted]),
      [
        [null, false],
        [null, false],
        ['POOR', true],
        ['FAST', true],
      ],
    );
    // Newest first.
    assert.deepEqual(all.map((l) => Number(l.id)), all.map((l) => Number(l.id)).sort((a, b) => b - a));
  });

  test('label validation and missing ids', async () => {
    const { db } = database();
    const [m] = await materials(1);
    const bad: [Parameters<typeof labelMaterial>[1], RegExp][] = [
      [{ materialId: m!, class: 'MEDIUM' as never }, /class/],
      // Messages name the API's fields, not the record's unit-suffixed ones.
      [{ materialId: m!, class: 'FAST', conductivitySPerCm: -1 }, /^conductivity must be a finite number ≥ 0/],
      [{ materialId: m!, class: 'FAST', conductivitySPerCm: Number.POSITIVE_INFINITY }, /^conductivity must/],
      [{ materialId: m!, class: 'FAST', temperatureK: 0 }, /^temperature must be in \(0, 2000\] K/],
      [{ materialId: m!, class: 'FAST', temperatureK: 2000.5 }, /^temperature must/],
      // A class that contradicts the room-temperature conductivity, without a reason.
      [{ materialId: m!, class: 'FAST', conductivitySPerCm: 1e-9 }, /class FAST contradicts conductivity 1e-9 S\/cm .*give a reason/],
      [{ materialId: m!, class: 'POOR', conductivitySPerCm: 1e-2, temperatureK: 298 }, /class POOR contradicts conductivity 0\.01 S\/cm/],
    ];
    for (const [input, pattern] of bad) {
      await assert.rejects(labelMaterial(db, input), (e: unknown) => e instanceof BadInputError && pattern.test(e.message));
    }
    await labelMaterial(db, { materialId: m!, class: 'FAST', temperatureK: 2000, conductivitySPerCm: 0 });
    // With a reason the curator may, and away from room temperature σ does not decide the class.
    await labelMaterial(db, { materialId: m!, class: 'FAST', conductivitySPerCm: 1e-9, reason: 'σ of a pressed pellet; single crystal is fast' });
    await labelMaterial(db, { materialId: m!, class: 'POOR', conductivitySPerCm: 1e-2, temperatureK: 600 });
    await assert.rejects(labelMaterial(db, { materialId: '987654', class: 'FAST' }), NotFoundError);
    await assert.rejects(retractLabel(db, '987654'), NotFoundError);
    await assert.rejects(listLabels(db, '987654', { first: 5 }), NotFoundError);
  });

  test('label filter uses the current label, UNLABELLED included', async () => {
    const { db } = database();
    const ids = await materials(6);
    const [a, b, c, d] = ids as [string, string, string, string];
    await labelMaterial(db, { materialId: a, class: 'FAST' });
    await labelMaterial(db, { materialId: b, class: 'POOR' });
    const cFast = await labelMaterial(db, { materialId: c, class: 'FAST' });
    await labelMaterial(db, { materialId: c, class: 'POOR' });
    const dPoor = await labelMaterial(db, { materialId: d, class: 'POOR' });
    await retractLabel(db, dPoor.id);
    await retractLabel(db, cFast.id); // an older label: c stays POOR

    const ids_ = async (label: 'FAST' | 'POOR' | 'UNLABELLED') => {
      const page = await listMaterials(db, { label }, { first: 100 });
      assert.equal(page.totalCount, page.items.length);
      return page.items.map((m) => m.id);
    };
    assert.deepEqual(await ids_('FAST'), [a]);
    assert.deepEqual(await ids_('POOR'), [b, c]);
    assert.deepEqual(await ids_('UNLABELLED'), [d, ...ids.slice(4)]);
  });

  test('label history pages, and batch readers in key order', async () => {
    const { db } = database();
    const [m, other, bare] = (await materials(3)) as [string, string, string];
    const written: LabelRecord[] = [];
    for (let i = 0; i < 7; i++) {
      written.push(await labelMaterial(db, { materialId: m, class: i % 2 ? 'FAST' : 'POOR', conductivitySPerCm: i % 2 ? i : i * 1e-6 }));
    }
    const otherLabel = await labelMaterial(db, { materialId: other, class: 'FAST' });
    await retractLabel(db, written[6]!.id);

    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page = await listLabels(db, m, { first: 3, after });
      assert.equal(page.totalCount, 7, 'the retraction row is not a label');
      seen.push(...page.items.map((l) => l.id));
      if (!page.hasNextPage) break;
      after = page.endCursor;
    }
    const newestFirst = (await labelsByMaterialIds(db, [m]))[0]!.filter((l) => l.class !== null).map((l) => l.id);
    assert.deepEqual(seen, newestFirst);
    assert.equal(new Set(seen).size, 7);

    const histories = await labelsByMaterialIds(db, [bare, other, m, 'nope']);
    assert.deepEqual(histories.map((h) => h.length), [0, 1, 8, 0], 'histories keep the retraction row');
    const current = await currentLabelsByMaterialIds(db, [m, bare, other]);
    assert.deepEqual(current.map((l) => l?.id ?? null), [written[5]!.id, null, otherLabel.id]);
    const byId = await labelsByIds(db, [otherLabel.id, '424242', written[6]!.id]);
    assert.deepEqual(byId.map((l) => l?.id ?? null), [otherLabel.id, null, written[6]!.id]);
    assert.equal(byId[2]!.retracted, true);
  });

  test('concurrent label writes keep the cached class equal to the derived current label', async () => {
    const { db } = database();
    const ids = await materials(3);
    await Promise.all(
      Array.from({ length: 24 }, (_, i) => labelMaterial(db, { materialId: ids[i % 3]!, class: i % 2 ? 'FAST' : 'POOR' })),
    );
    const current = await currentLabelsByMaterialIds(db, ids);
    for (const [k, id] of ids.entries()) assert.equal(await cachedClass(id), current[k]!.class);
  });
});
