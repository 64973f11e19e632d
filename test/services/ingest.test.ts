import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { importFiles, scanStructureFiles, structureFileKind, type ImportProgress } from '../../src/services/ingest.js';
import { listMaterials } from '../../src/services/materials.js';
import { describeDatabases } from '../support/databases.js';
import { cubicPoscar, cubicStructureJson } from '../support/structures.js';

const CIF_DIR = fileURLToPath(new URL('../../data/obelix/cifs', import.meta.url));

test('file kinds come from the file name', () => {
  assert.deepEqual(structureFileKind('/a/b/x.CIF'), { format: 'CIF', jsonLines: false });
  assert.deepEqual(structureFileKind('POSCAR'), { format: 'POSCAR', jsonLines: false });
  assert.deepEqual(structureFileKind('CONTCAR_relaxed'), { format: 'POSCAR', jsonLines: false });
  assert.deepEqual(structureFileKind('x.vasp'), { format: 'POSCAR', jsonLines: false });
  assert.deepEqual(structureFileKind('pool.jsonl'), { format: 'JSON', jsonLines: true });
  assert.equal(structureFileKind('notes.txt'), undefined);
});

describeDatabases('importFiles', (database) => {
  let dir: string;
  const cifs = readdirSync(CIF_DIR).sort().slice(0, 5);

  before(() => {
    // dir/
    //   a.cif … e.cif        five OBELiX CIFs
    //   broken.cif           not a CIF
    //   README.txt           ignored (not a structure file name)
    //   sub/POSCAR           one POSCAR
    //   sub/deeper/pool.jsonl  three lines: good, bad, good (+ a blank line)
    dir = mkdtempSync(join(tmpdir(), 'ionsieve-import-'));
    for (const name of cifs) copyFileSync(join(CIF_DIR, name), join(dir, name));
    writeFileSync(join(dir, 'broken.cif'), 'data_x\n_cell_length_a 4\nloop_\n_atom_site_label\n');
    writeFileSync(join(dir, 'README.txt'), 'not a structure');
    mkdirSync(join(dir, 'sub', 'deeper'), { recursive: true });
    writeFileSync(join(dir, 'sub', 'POSCAR'), cubicPoscar(4.5, ['Li', 'F']));
    writeFileSync(
      join(dir, 'sub', 'deeper', 'pool.jsonl'),
      [
        JSON.stringify({ id: 'p1', source: 'test-pool', ...JSON.parse(cubicStructureJson(5.5, ['Li', 'I'])) }),
        '{"lattice": [[1,0,0],[0,1,0]], "sites": []}',
        '',
        cubicStructureJson(5.6, ['Li', 'Br']),
      ].join('\n') + '\n',
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('streams a directory in batches; bad files are reported, not fatal; a re-import only finds duplicates', async () => {
    const { db } = database();
    const scan = await scanStructureFiles([dir]);
    assert.equal(scan.files, cifs.length + 3);

    const seen: ImportProgress[] = [];
    const result = await importFiles(db, [dir], { batchSize: 2, source: 'unit import', onProgress: (p) => seen.push(p) });
    assert.equal(result.files, cifs.length + 3);
    assert.equal(result.ok, cifs.length + 1 + 2);
    assert.equal(result.duplicates, 0);
    assert.deepEqual(
      result.failed.map((f) => f.file.slice(dir.length + 1)),
      ['broken.cif', join('sub', 'deeper', 'pool.jsonl:2')],
    );
    assert.ok(result.failed.every((f) => f.error.length > 0));

    // Batches were written while files were still being read, and never more than a batch waited.
    assert.ok(seen.some((p) => p.ok > 0 && p.files < scan.files));
    assert.ok(seen.every((p) => p.pending <= 2));
    assert.equal(seen.at(-1)!.bytes, scan.bytes);

    const stored = (await listMaterials(db, {}, { first: 100 })).items;
    assert.equal(stored.length, result.ok);
    const jsonRecord = stored.find((m) => m.sourceId === 'p1')!;
    assert.equal(jsonRecord.source, 'test-pool');
    assert.equal(jsonRecord.reducedFormula, 'LiI');
    const cif = stored.find((m) => m.name === cifs[0]!.replace(/\.cif$/, ''))!;
    assert.equal(cif.source, 'unit import');
    assert.equal(cif.kind, 'STRUCTURE');

    const again = await importFiles(db, [dir, join(dir, 'sub', 'POSCAR')], { batchSize: 500 });
    assert.equal(again.ok, 0);
    assert.equal(again.duplicates, result.ok + 1);
    assert.equal(again.failed.length, 2);
    assert.equal((await listMaterials(db, {}, { first: 0 })).totalCount, result.ok);
  });

  test('a file named explicitly with an unknown extension is a failure, a missing path an error', async () => {
    const { db } = database();
    const result = await importFiles(db, [join(dir, 'README.txt')]);
    assert.equal(result.ok, 0);
    assert.match(result.failed[0]!.error, /unknown structure format/);
    await assert.rejects(importFiles(db, [join(dir, 'nope')]), /ENOENT/);
    assert.ok(readFileSync(join(dir, 'README.txt'), 'utf8'));
  });

  test('a multi-block CIF imports each block as its own material; an absurd density is reported unless allowed', async () => {
    const { db } = database();
    const licl = readFileSync(new URL('../fixtures/graphql/licl-rocksalt-p1.cif', import.meta.url), 'utf8');
    const multi = mkdtempSync(join(tmpdir(), 'ionsieve-import-blocks-'));
    try {
      writeFileSync(
        join(multi, 'two.cif'),
        `${licl}\n${licl.replace('data_LiCl', 'data_LiCl_strained').replace(/5\.1295/g, '5.3')}`,
      );
      writeFileSync(join(multi, 'sparse.cif'), licl.replace(/5\.1295/g, '1000'));
      const result = await importFiles(db, [multi], { source: 'blocks' });
      assert.equal(result.ok, 2, JSON.stringify(result.failed));
      assert.deepEqual(
        result.failed.map((f) => [f.file.endsWith('sparse.cif'), /density .* is outside \[0\.1, 25\]/.test(f.error)]),
        [[true, true]],
      );
      const stored = (await listMaterials(db, { formula: 'LiCl' }, { first: 10 })).items.filter((m) => m.source === 'blocks');
      assert.deepEqual(stored.map((m) => m.name).sort(), ['two:LiCl', 'two:LiCl_strained']);
      const allowed = await importFiles(db, [join(multi, 'sparse.cif')], { source: 'blocks', allowUnusualDensity: true });
      assert.equal(allowed.ok, 1);

      // A saved OPTIMADE page: one material per entry, with the entry id and provider.
      const entry = JSON.parse(readFileSync(new URL('../fixtures/structures/licl.optimade.json', import.meta.url), 'utf8'));
      const a = 5.25; // not the cells above: another structure
      const attributes = {
        ...entry.attributes,
        lattice_vectors: [[a, 0, 0], [0, a, 0], [0, 0, a]],
        cartesian_site_positions: entry.attributes.cartesian_site_positions.map((p: number[]) => p.map((x) => (x * a) / 5.13)),
      };
      const page = { data: [{ ...entry, id: 'mp-22905', attributes }], meta: { provider: { prefix: 'mp' } } };
      writeFileSync(join(multi, 'page.json'), JSON.stringify(page));
      const optimade = await importFiles(db, [join(multi, 'page.json')]);
      assert.equal(optimade.ok, 1, JSON.stringify(optimade.failed));
      const [fromPage] = (await listMaterials(db, {}, { first: 100 })).items.filter((m) => m.sourceId === 'mp-22905');
      assert.equal(fromPage!.source, 'optimade:mp');
    } finally {
      rmSync(multi, { recursive: true, force: true });
    }
  });

  test('a properties.csv beside (or above) the CIFs gives them properties; a row naming no file, or a bad table, is reported', async () => {
    const { db } = database();
    const folder = mkdtempSync(join(tmpdir(), 'ionsieve-import-properties-'));
    try {
      // folder/properties.csv; folder/cifs/{a,b}.cif (the shipped pool's layout); folder/other/bad/properties.csv
      mkdirSync(join(folder, 'cifs'));
      // Not the CIFs the tests above imported (those would be duplicates, and keep their properties).
      const [first, second] = readdirSync(CIF_DIR).sort().slice(10, 12);
      copyFileSync(join(CIF_DIR, first!), join(folder, 'cifs', 'a.cif'));
      copyFileSync(join(CIF_DIR, second!), join(folder, 'cifs', 'b.cif'));
      writeFileSync(
        join(folder, 'properties.csv'),
        'file,band_gap_ev,_my_gap [meV],property_source\na,3.5,120,doi:10.1/x\nb.cif,,-2.5e1,\nghost,1,,\n',
      );
      mkdirSync(join(folder, 'other', 'bad'), { recursive: true });
      writeFileSync(join(folder, 'other', 'bad', 'properties.csv'), 'file,band_gap_ev\nx,wide\n');
      const result = await importFiles(db, [folder], { actor: 'curator-1' });
      assert.equal(result.ok, 2, JSON.stringify(result.failed));
      assert.deepEqual(
        result.failed.map((f) => [f.file.slice(folder.length + 1), f.error]),
        [
          [join('other', 'bad', 'properties.csv'), `${join(folder, 'other', 'bad', 'properties.csv')} line 2: band_gap_ev is "wide", not a number`],
          ['properties.csv:4', 'no structure file named "ghost" in its folder'],
        ],
      );
      const stored = (await listMaterials(db, {}, { first: 100 })).items;
      const a = stored.find((m) => m.name === 'a')!;
      const b = stored.find((m) => m.name === 'b')!;
      assert.deepEqual(
        Object.entries(a.properties).map(([name, p]) => [name, p.value, p.unit, p.source, p.setBy]).sort(),
        [
          ['_my_gap', 120, 'meV', 'doi:10.1/x', 'curator-1'],
          ['band_gap_ev', 3.5, 'eV', 'doi:10.1/x', 'curator-1'],
        ],
      );
      assert.deepEqual(
        Object.entries(b.properties).map(([name, p]) => [name, p.value, p.unit, p.source]),
        [['_my_gap', -25, 'meV', 'properties.csv line 3']],
      );
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
