import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { parseCsv } from '../../src/csv.js';
import { currentLabelsByMaterialIds, labelsByMaterialIds, listMaterials } from '../../src/services/materials.js';
import { retractLabel } from '../../src/services/screening.js';
import { CANDIDATE_POOL_NAME, isSeeded, OBELIX_LABEL_REASON, ROOM_TEMPERATURE_K, seed } from '../../src/services/seed.js';
import { rescoreModel, screen, syncScreeningLabels } from '../../src/services/screening.js';
import { assertSameRanking, insertEmbeddings, insertModel, randomVectors, readWholeRanking, recomputeRanking } from '../screening/fixtures.js';
import { describeDatabases, resetDatabase } from '../support/databases.js';

const DATA_DIR = fileURLToPath(new URL('../../data', import.meta.url));
const obelix = parseCsv(readFileSync(join(DATA_DIR, 'obelix/manifest.csv'), 'utf8'));
const pool = parseCsv(readFileSync(join(DATA_DIR, 'candidates/open_li_pool_v1/manifest.csv'), 'utf8'));
const withCif = obelix.filter((e) => e.has_structure === 'True');
const withoutCif = obelix.filter((e) => e.has_structure !== 'True');
const classOf = (e: Record<string, string>) => (e.label === 'high' ? 'FAST' : 'POOR');
const count = (rows: Record<string, string>[], cls: string) => rows.filter((e) => classOf(e) === cls).length;

test('the shipped manifests have the shape the seed expects', () => {
  assert.equal(withCif.length, 254);
  assert.equal(withoutCif.length, 224);
  assert.equal(pool.length, 279);
  assert.ok(obelix.every((e) => e.label === 'high' || e.label === 'low'));
  // The label rule of the dataset: high ⇔ σ_RT ≥ 1e-4 S/cm.
  for (const e of obelix) assert.equal(e.label === 'high', Number(e.sigma_rt_S_per_cm) >= 1e-4, e.id);
});

describeDatabases('seed', (database) => {
  test('loads OBELiX (structures + compositions, labelled) and the candidate pool; a second seed adds nothing', async () => {
    const { db } = database();
    assert.equal(await isSeeded(db), false);
    const progress: string[] = [];
    const first = await seed(db, { dataDir: DATA_DIR, onProgress: (p) => progress.push(p.dataset) });
    assert.deepEqual(first.failed, []);
    assert.equal(first.obelixStructures, withCif.length);
    assert.equal(first.obelixCompositions, withoutCif.length);
    assert.equal(first.candidates, pool.length);
    assert.equal(first.labels, obelix.length);
    assert.ok(progress.includes('obelix') && progress.includes('candidates'));
    assert.equal(await isSeeded(db), true);

    const total = async (filter: Parameters<typeof listMaterials>[1]) => (await listMaterials(db, filter, { first: 0 })).totalCount;
    assert.equal(await total({}), obelix.length + pool.length);
    for (const cls of ['FAST', 'POOR'] as const) {
      assert.equal(await total({ label: cls }), count(obelix, cls), cls);
    }
    assert.equal(await total({ label: 'UNLABELLED' }), pool.length);

    // Spot-check one structure entry and one composition entry against their manifest rows.
    const all = (await listMaterials(db, {}, { first: 1000 })).items;
    const bySourceId = new Map(all.map((m) => [m.sourceId, m]));
    for (const entry of [withCif[0]!, withoutCif[0]!]) {
      const material = bySourceId.get(entry.id!)!;
      assert.equal(material.kind, entry.has_structure === 'True' ? 'STRUCTURE' : 'COMPOSITION');
      assert.equal(material.source, entry.source);
      assert.equal(material.family, entry.family);
      assert.equal(material.currentLabelClass, classOf(entry));
      const [label] = (await currentLabelsByMaterialIds(db, [material.id])) as [NonNullable<Awaited<ReturnType<typeof currentLabelsByMaterialIds>>[0]>];
      assert.equal(label.conductivitySPerCm, Number(entry.sigma_rt_S_per_cm));
      assert.equal(label.temperatureK, ROOM_TEMPERATURE_K);
      assert.equal(label.source, `doi:${entry.doi}`);
      assert.equal(label.reason, OBELIX_LABEL_REASON);
    }
    const structureEntry = bySourceId.get(withCif[0]!.id!)!;
    assert.equal(structureEntry.nsites, Number(withCif[0]!.n_sites));
    assert.deepEqual(structureEntry.elements, withCif[0]!.elements!.split(' ').sort());

    // A curator's retraction survives a re-seed: the seed label is not added back.
    const [history] = await labelsByMaterialIds(db, [structureEntry.id]);
    await retractLabel(db, history![0]!.id, 'curator');

    const second = await seed(db, { dataDir: DATA_DIR });
    assert.equal(second.obelixStructures + second.obelixCompositions + second.candidates + second.labels, 0);
    assert.equal(second.alreadyPresent, obelix.length + pool.length);
    assert.equal(await total({}), obelix.length + pool.length);
    assert.equal(await total({ label: 'UNLABELLED' }), pool.length + 1);
  });

  test('candidate pool provenance: the provider record id (MP ids linked), the pool id as an alias; a store seeded before is upgraded', async () => {
    const { db } = database();
    await resetDatabase(db);
    await seed(db, { dataDir: DATA_DIR });
    const candidates = async () => {
      const items = (await listMaterials(db, { label: 'UNLABELLED' }, { first: 1000 })).items;
      return new Map(items.map((m) => [m.aliases.find((a) => a.source === CANDIDATE_POOL_NAME)?.sourceId, m]));
    };
    const check = (byPoolId: Awaited<ReturnType<typeof candidates>>) => {
      assert.equal(byPoolId.size, pool.length);
      for (const entry of pool) {
        const m = byPoolId.get(entry.id!);
        assert.ok(m, `${entry.id} has its pool id as an alias`);
        assert.equal(m.source, entry.source);
        if (entry.source!.startsWith('MP-20')) {
          assert.match(entry.source_id!, /^(mp|mvc)-\d+$/);
          assert.equal(m.sourceId, entry.source_id, entry.id);
          // Only mp- ids get a link; MP-20 also holds an mvc- id.
          assert.equal(m.sourceUrl, entry.source_id!.startsWith('mp-') ? `https://next-gen.materialsproject.org/materials/${entry.source_id}` : null);
        } else if (entry.source === 'matcalc_li_subset') {
          assert.equal(m.sourceId, entry.source_id!.split('|')[0], entry.id);
          assert.equal(m.sourceUrl !== null, m.sourceId!.startsWith('mp-'), entry.id);
        } else {
          assert.equal(m.sourceId, `${entry.source_file}#${entry.source_id}`, entry.id);
          assert.equal(m.sourceUrl, null);
        }
      }
    };
    const seeded = await candidates();
    check(seeded);
    const mpRows = pool.filter((e) => e.source!.startsWith('MP-20') || e.source_id!.startsWith('mp-'));
    assert.equal([...seeded.values()].filter((m) => /^(mp|mvc)-/.test(m.sourceId ?? '')).length, mpRows.length);

    // A store seeded before provenance was kept: source_id was the pool id, no link, no alias.
    for (const [poolId, m] of seeded) {
      await db.updateTable('material').set({ source_id: poolId!, source_url: null, aliases: '[]' }).where('id', '=', m.id).execute();
    }
    const again = await seed(db, { dataDir: DATA_DIR });
    assert.equal(again.candidates, 0);
    const upgraded = await candidates();
    check(upgraded);
    for (const [poolId, m] of upgraded) assert.equal(m.id, seeded.get(poolId)!.id, 'the same rows, not new ones');
  });

  test('candidate pool properties (properties.csv) and space groups: the band-gap range filter returns exactly the rows in range', async () => {
    const { db } = database();
    await resetDatabase(db);
    await seed(db, { dataDir: DATA_DIR });
    const properties = parseCsv(readFileSync(join(DATA_DIR, 'candidates/open_li_pool_v1/properties.csv'), 'utf8'));
    assert.equal(properties.length, 130);
    const items = (await listMaterials(db, { label: 'UNLABELLED' }, { first: 1000 })).items;
    const byPoolId = new Map(items.map((m) => [m.aliases.find((a) => a.source === CANDIDATE_POOL_NAME)!.sourceId, m]));
    const poolIdsOf = async (filter: Parameters<typeof listMaterials>[1]) =>
      (await listMaterials(db, filter, { first: 1000 })).items.map((m) => m.aliases.find((a) => a.source === CANDIDATE_POOL_NAME)?.sourceId).sort();
    const inRange = (column: string, min: number | null, max: number | null) =>
      properties
        .filter((row) => row[column] !== '' && (min === null || Number(row[column]) >= min) && (max === null || Number(row[column]) <= max))
        .map((row) => row.id)
        .sort();

    const gapAtLeast1 = await poolIdsOf({ properties: [{ name: 'band_gap_ev', min: 1, max: null }] });
    assert.deepEqual(gapAtLeast1, inRange('band_gap_ev', 1, null));
    assert.equal(gapAtLeast1.length, 30);
    assert.deepEqual(await poolIdsOf({ properties: [{ name: 'band_gap_ev', max: 0.1 }] }), inRange('band_gap_ev', null, 0.1));
    assert.deepEqual(
      await poolIdsOf({ properties: [{ name: 'energy_above_hull_ev_per_atom', max: 0.025 }, { name: 'band_gap_ev', min: 1 }] }),
      properties.filter((r) => r.energy_above_hull_ev_per_atom !== '' && Number(r.energy_above_hull_ev_per_atom) <= 0.025 && Number(r.band_gap_ev) >= 1).map((r) => r.id).sort(),
    );
    // Formation energies: the 106 MP-20 rows and the 24 WBM rows.
    assert.equal((await poolIdsOf({ properties: [{ name: 'formation_energy_ev_per_atom' }] })).length, 130);

    // Every value as written in the CSV, with its unit and source.
    for (const row of properties) {
      const m = byPoolId.get(row.id!)!;
      for (const [name, unit] of [['band_gap_ev', 'eV'], ['energy_above_hull_ev_per_atom', 'eV/atom'], ['formation_energy_ev_per_atom', 'eV/atom']] as const) {
        if (row[name] === '') assert.equal(m.properties[name], undefined);
        else assert.deepEqual([m.properties[name]!.value, m.properties[name]!.unit, m.properties[name]!.source], [Number(row[name]), unit, row.property_source]);
      }
    }

    // A curator's value survives a re-seed; a store that lost the seeded values gets them back.
    const curated = byPoolId.get(properties[0]!.id!)!;
    await db.updateTable('material').set({ properties: JSON.stringify({ band_gap_ev: { value: 9, unit: 'eV', source: 'curator', setBy: 'c', setAt: new Date().toISOString() } }) }).where('id', '=', curated.id).execute();
    const bare = byPoolId.get(properties[1]!.id!)!;
    await db.updateTable('material').set({ properties: '{}' }).where('id', '=', bare.id).execute();
    await seed(db, { dataDir: DATA_DIR });
    const [after] = (await listMaterials(db, { formula: curated.reducedFormula }, { first: 10 })).items.filter((m) => m.id === curated.id);
    assert.equal(after!.properties.band_gap_ev!.value, 9);
    assert.equal(after!.properties.formation_energy_ev_per_atom!.value, Number(properties[0]!.formation_energy_ev_per_atom));
    const [restored] = (await listMaterials(db, { formula: bare.reducedFormula }, { first: 10 })).items.filter((m) => m.id === bare.id);
    assert.equal(restored!.properties.band_gap_ev!.value, Number(properties[1]!.band_gap_ev));

    // Space groups (moyo, 0.1 Å) against the manifest's (spglib, symprec 0.1): all but a few at the tolerance's edge.
    const agree = pool.filter((entry) => byPoolId.get(entry.id!)!.spaceGroupNumber === Number(entry.spacegroup)).length;
    assert.ok(agree >= 275, `space groups agree with the manifest for ${agree} of ${pool.length}`);
    const rocksalt = pool.filter((entry) => entry.spacegroup === '225').map((entry) => entry.id).sort();
    assert.ok(rocksalt.length > 0);
    const found = await poolIdsOf({ label: 'UNLABELLED', spaceGroupNumber: 225 });
    assert.ok(rocksalt.every((id) => found.includes(id)), 'every Fm-3m row of the manifest is found');
  });

  test('chemical plausibility on the seeded pool agrees with pymatgen; Li3Al, LiAl3 and LiGa3 leave the chargeBalanced ranking', async () => {
    const { db } = database();
    await resetDatabase(db);
    await seed(db, { dataDir: DATA_DIR });
    const reference = JSON.parse(readFileSync(new URL('../fixtures/pymatgen-oxidation.json', import.meta.url), 'utf8')).structures as Record<string, { balanced: boolean }>;
    const items = (await listMaterials(db, { label: 'UNLABELLED' }, { first: 1000 })).items;
    const poolIdOf = (m: (typeof items)[number]) => m.aliases.find((a) => a.source === CANDIDATE_POOL_NAME)!.sourceId!;
    const agree = items.filter((m) => m.chargeBalanced === reference[poolIdOf(m)]!.balanced).length;
    assert.equal(items.length, 279);
    assert.ok(agree >= Math.ceil(0.95 * 279), `Material.chargeBalanced agrees with pymatgen for ${agree} of 279`);
    assert.equal(items.filter((m) => m.chargeBalanced).length, 143);

    const modelId = await insertModel(db, { dim: 8 });
    const structures = (await listMaterials(db, {}, { first: 1000 })).items.filter((m) => m.kind === 'STRUCTURE');
    await insertEmbeddings(db, modelId, structures.map((m) => m.id), randomVectors(structures.length, 8, 5));
    await rescoreModel(db, modelId);
    const ranked = async (filter: Parameters<typeof listMaterials>[1]) => {
      const page = await screen(db, { modelId, filter, first: 1000 });
      return page.items.map((item) => item.materialId);
    };
    const whole = await ranked({});
    const plausible = await ranked({ chargeBalanced: true });
    const byId = new Map(items.map((m) => [m.id, m]));
    assert.deepEqual(plausible, whole.filter((id) => byId.get(id)!.chargeBalanced === true), 'the same order, implausible ones left out');
    const intermetallics = items.filter((m) => ['Li3Al', 'LiAl3', 'LiGa3'].includes(m.reducedFormula));
    assert.equal(intermetallics.length, 4, 'Li3Al, LiAl3 (two structures), LiGa3');
    for (const m of intermetallics) {
      assert.equal(m.chargeBalanced, false, m.reducedFormula);
      assert.ok(whole.includes(m.id), `${m.reducedFormula} is still scored and ranked without the filter`);
      assert.ok(!plausible.includes(m.id), `${m.reducedFormula} leaves the chargeBalanced ranking`);
    }
  });

  test('a re-seed that adds labels keeps stored screening scores exact (the labels join the references)', async () => {
    const { db } = database();
    await resetDatabase(db);
    await seed(db, { dataDir: DATA_DIR });
    const structures = (await listMaterials(db, {}, { first: 1000 })).items.filter((m) => m.kind === 'STRUCTURE');
    const modelId = await insertModel(db, { dim: 8 });
    await insertEmbeddings(db, modelId, structures.map((m) => m.id), randomVectors(structures.length, 8, 7));
    await rescoreModel(db, modelId);

    // A labelled material that lost its seed label (say, deleted by a script) is a candidate again…
    const fast = structures.find((m) => m.currentLabelClass === 'FAST')!;
    await db.deleteFrom('label').where('material_id', '=', fast.id).execute();
    await db.updateTable('material').set({ current_label_class: null }).where('id', '=', fast.id).execute();
    await syncScreeningLabels(db);
    assert.ok((await readWholeRanking(db, { modelId }, 200)).some((r) => r.materialId === fast.id));

    // …and the seed gives it back: it leaves the ranking and every score counts it as FAST.
    const again = await seed(db, { dataDir: DATA_DIR });
    assert.equal(again.labels, 1);
    const ranking = await readWholeRanking(db, { modelId }, 200);
    assert.ok(!ranking.some((r) => r.materialId === fast.id));
    assertSameRanking(ranking, await recomputeRanking(db, modelId), 'after the re-seed');
  });
});
