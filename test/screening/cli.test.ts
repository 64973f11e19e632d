/**
 * `ionsieve screen` end to end through bin/ionsieve.js on a PGlite data directory: CSV and JSON
 * lines on stdout equal the ranking recomputed from the raw embeddings.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { SCREEN_CSV_COLUMNS } from '../../src/cli/screen.js';
import { parseCsv } from '../../src/csv.js';
import { openDatabase } from '../../src/store/database.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { insertEmbeddings, insertMaterials, insertModel, randomVectors, recomputeRanking, setLabelsDirectly, SCORE_TOLERANCE, type OracleRow } from './fixtures.js';

const BIN = fileURLToPath(new URL('../../bin/ionsieve.js', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'ionsieve-screen-cli-'));
const dataDir = join(work, 'pgdata');
let expected: OracleRow[] = [];
let modelId = '';

before(async () => {
  const opened = await openDatabase({ dataDir });
  try {
    await migrateToLatest(opened.db);
    modelId = await insertModel(opened.db, { dim: 3, active: true });
    const ids = await insertMaterials(opened.db, 25);
    await insertEmbeddings(opened.db, modelId, ids, randomVectors(ids.length, 3, 11));
    await setLabelsDirectly(opened.db, new Map(ids.slice(0, 6).map((id, i) => [id, i < 3 ? 'FAST' : 'POOR'] as const)));
    expected = await recomputeRanking(opened.db, modelId);
  } finally {
    await opened.close();
  }
});
after(() => rmSync(work, { recursive: true, force: true }));

function ionsieve(...args: string[]) {
  const result = spawnSync(process.execPath, [BIN, ...args, '--data-dir', dataDir], {
    cwd: work,
    encoding: 'utf8',
    env: { ...process.env, DATABASE_URL: '', LOG_LEVEL: 'info' },
    timeout: 180_000,
  });
  assert.equal(result.status, 0, result.stderr);
  return result.stdout;
}

test('screen --format csv: a header and the top N rows of the recomputed ranking', () => {
  const rows = parseCsv(ionsieve('screen', '--model', modelId, '--top', '7', '--format', 'csv'));
  assert.deepEqual(Object.keys(rows[0]!), [...SCREEN_CSV_COLUMNS]);
  assert.deepEqual(rows.map((r) => r.material_id), expected.slice(0, 7).map((r) => r.materialId));
  rows.forEach((row, i) => {
    assert.equal(Number(row.rank), i + 1);
    assert.ok(Math.abs(Number(row.score) - expected[i]!.score) <= SCORE_TOLERANCE);
    assert.equal(row.predicted_class, Number(row.score) > 1 ? 'FAST' : 'POOR');
  });
});

test('screen --format json: one object per line, all candidates when --top exceeds them', () => {
  const lines = ionsieve('screen', '--top', '1000', '--format', 'json').trim().split('\n').map((line) => JSON.parse(line));
  assert.equal(lines.length, expected.length);
  assert.deepEqual(lines.map((l) => l.material_id), expected.map((r) => r.materialId));
  assert.ok(lines.every((l, i) => Math.abs(l.mean_distance_to_poor - expected[i]!.meanDistanceToPoor) <= SCORE_TOLERANCE));
});
