/**
 * Two `ionsieve start` replicas started at once on an empty PostgreSQL database (a deployment
 * rolling out N replicas of the docker-compose `api` service): the migrations and the seed run
 * once — every material and label exactly once, one shipped model with one embedding per
 * material — and both replicas serve the same data.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { openDatabase, type OpenedDatabase } from '../../src/store/database.js';
import { migrations } from '../../src/store/migrate.js';
import { createPostgresTestDatabase, type PostgresTestDatabase } from '../support/databases.js';
import { graphQLData, startIonsieve, stopAllIonsieve } from '../support/processes.js';

const SKIP = process.env.DATABASE_URL
  ? false
  : 'DATABASE_URL is not set: this test runs `ionsieve start` processes against a real PostgreSQL (CI sets it)';

const DATA = fileURLToPath(new URL('../../data', import.meta.url));

/** A small copy of data/: the first `structures` + `compositions` OBELiX rows, `candidates` pool rows, the shipped model. */
function smallSeedDir(counts: { structures: number; compositions: number; candidates: number }): string {
  const dir = mkdtempSync(join(tmpdir(), 'ionsieve-seed-'));
  const copy = (relative: string) => {
    mkdirSync(dirname(join(dir, relative)), { recursive: true });
    copyFileSync(join(DATA, relative), join(dir, relative));
  };
  const [obelixHeader, ...obelixRows] = readFileSync(join(DATA, 'obelix/manifest.csv'), 'utf8').trimEnd().split('\n');
  const hasStructure = (line: string) => /,True,cifs\//.test(line);
  // Both classes, so the shipped model can rank the candidates.
  const half = Math.ceil(counts.structures / 2);
  const structures = [
    ...obelixRows.filter((l) => hasStructure(l) && l.includes(',high,')).slice(0, half),
    ...obelixRows.filter((l) => hasStructure(l) && l.includes(',low,')).slice(0, counts.structures - half),
  ];
  const compositions = obelixRows.filter((l) => !hasStructure(l)).slice(0, counts.compositions);
  mkdirSync(join(dir, 'obelix/cifs'), { recursive: true });
  writeFileSync(join(dir, 'obelix/manifest.csv'), [obelixHeader, ...structures, ...compositions].join('\n') + '\n');
  for (const line of structures) copy(`obelix/${/,(cifs\/[^,]+\.cif),/.exec(line)![1]}`);
  const [poolHeader, ...poolRows] = readFileSync(join(DATA, 'candidates/open_li_pool_v1/manifest.csv'), 'utf8').trimEnd().split('\n');
  const pool = poolRows.slice(0, counts.candidates);
  mkdirSync(join(dir, 'candidates/open_li_pool_v1/cifs'), { recursive: true });
  writeFileSync(join(dir, 'candidates/open_li_pool_v1/manifest.csv'), [poolHeader, ...pool].join('\n') + '\n');
  for (const line of pool) copy(`candidates/open_li_pool_v1/cifs/${line.split(',')[0]}.cif`);
  copy('models/default/manifest.json');
  copy('models/default/artifact.json');
  return dir;
}

describe('two `ionsieve start` replicas at once on an empty database (processes, PostgreSQL)', { skip: SKIP }, () => {
  const counts = { structures: 6, compositions: 3, candidates: 5 };
  let created: PostgresTestDatabase;
  let opened: OpenedDatabase;
  let seedDir: string;

  before(async () => {
    created = await createPostgresTestDatabase();
    opened = await openDatabase({ databaseUrl: created.url, poolSize: 2 });
    seedDir = smallSeedDir(counts);
  });

  after(async () => {
    await stopAllIonsieve();
    await opened?.close();
    await created?.drop();
    if (seedDir) rmSync(seedDir, { recursive: true, force: true });
  });

  test('migrations and the seed run once; both replicas serve the same materials', async () => {
    const env = { DATABASE_URL: created.url, IONSIEVE_SEED_DIR: seedDir };
    const replicas = ['replica 1', 'replica 2'].map((name) =>
      startIonsieve(name, ['start', '--no-worker', '--host', '127.0.0.1', '--port', '0'], { env }),
    );
    const urls = await Promise.all(
      replicas.map(async (r) => String((await r.waitForLog("'ionsieve listening'", (l) => l.msg === 'ionsieve listening', 180_000)).url)),
    );

    const { rows: applied } = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(opened.db);
    assert.deepEqual(applied.map((r) => r.name), Object.keys(migrations).sort());
    const { rows } = await sql<{ materials: string; labels: string; distinct_labelled: string }>`
      select (select count(*) from material) as materials, (select count(*) from label) as labels,
             (select count(distinct material_id) from label) as distinct_labelled`.execute(opened.db);
    assert.equal(Number(rows[0]!.materials), counts.structures + counts.compositions + counts.candidates, 'every material once');
    assert.equal(Number(rows[0]!.labels), counts.structures + counts.compositions, 'every seed label once');
    assert.equal(Number(rows[0]!.distinct_labelled), counts.structures + counts.compositions);
    const { rows: models } = await sql<{ id: string; status: string; is_active: boolean; embeddings: string }>`
      select id, status, is_active, (select count(*) from embedding e where e.model_id = m.id) as embeddings from model m`.execute(opened.db);
    assert.equal(models.length, 1, 'the shipped model installed once');
    assert.equal(models[0]!.status, 'READY');
    assert.equal(models[0]!.is_active, true);
    // The default embeds every material: structures, and the formula-only rows through its composition pathway.
    assert.equal(Number(models[0]!.embeddings), counts.structures + counts.compositions + counts.candidates);

    // One replica seeded; the other found the database seeded.
    const seeded = replicas.filter((r) => r.logs.some((l) => l.msg === 'seed done'));
    const found = replicas.filter((r) => r.logs.some((l) => l.msg === 'database already seeded'));
    assert.equal(seeded.length, 1, 'one replica seeded');
    assert.equal(found.length, 1, 'the other found it seeded');
    for (const r of replicas) assert.deepEqual(r.logs.filter((l) => l.level >= 50), [], `${r.name} logged errors`);

    const query = /* GraphQL */ `query {
      materials(first: 50) { totalCount edges { node { id formula label { class } } } }
      screen(first: 10) { totalCount edges { rank score node { id } } } }`;
    const [one, two] = await Promise.all(urls.map((url) => graphQLData(url, query)));
    assert.deepEqual(two, one);
    assert.equal((one as { screen: { totalCount: number } }).screen.totalCount, counts.candidates, 'the shipped model ranks the candidates');
  });
});
