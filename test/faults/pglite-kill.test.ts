/**
 * Fault: the embedded PGlite process is killed (SIGKILL) in the middle of a write burst. A child
 * process (support/pglite-writer.ts) opens a real data directory and writes batches through the
 * services, acknowledging each after its commit resolved; the test kills it after some
 * acknowledgements, reopens the directory and checks that every acknowledged write is there and
 * that no batch is half-written. Two rounds: the second crashes a directory that was itself
 * recovered from a crash.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { addMaterials } from '../../src/services/materials.js';
import { openDatabase } from '../../src/store/database.js';

const WRITER = fileURLToPath(new URL('./support/pglite-writer.ts', import.meta.url));
/** Materials per addMaterials call (one transaction). */
const BATCH = 3;
/** Acknowledged batches before the kill. */
const ACKS_BEFORE_KILL = 12;
/** Generous: the first open of a new data directory runs initdb (5–30 s on a busy 2-core machine). */
const CHILD_TIMEOUT_MS = 180_000;

const work = mkdtempSync(join(tmpdir(), 'ionsieve-pglite-kill-'));
after(() => rmSync(work, { recursive: true, force: true }));

interface Ack {
  batch: number;
  materialIds: string[];
  labelId: string;
}

/** Runs the writer until `acks` acknowledgements, SIGKILLs it, and returns every ack it printed. */
async function writeUntilKilled(dataDir: string, round: number, acks: number): Promise<Ack[]> {
  const child = spawn(process.execPath, ['--import', 'tsx', WRITER, dataDir, String(round), String(BATCH)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, DATABASE_URL: '' },
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += String(chunk)));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const seen: Ack[] = [];
  const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
  try {
    for await (const line of createInterface({ input: child.stdout })) {
      const match = /^ack (\d+) (\d+) ([\d,]+) (\d+)$/.exec(line);
      if (!match) continue;
      assert.equal(Number(match[1]), round);
      seen.push({ batch: Number(match[2]), materialIds: match[3]!.split(','), labelId: match[4]! });
      // Killed while it keeps writing: the next batch is on its way into the database.
      if (seen.length === acks) child.kill('SIGKILL');
    }
  } finally {
    clearTimeout(timer);
  }
  const { signal } = await exited;
  assert.equal(signal, 'SIGKILL', `the writer should have been killed, not exited:\n${stderr}`);
  assert.ok(seen.length >= acks, `only ${seen.length} acknowledgements before the kill:\n${stderr}`);
  return seen;
}

test('PGlite killed during a write burst reopens with every acknowledged write and no half-written batch', { timeout: 600_000 }, async () => {
  const dataDir = join(work, 'pgdata');
  for (const round of [1, 2]) {
    const acks = await writeUntilKilled(dataDir, round, ACKS_BEFORE_KILL);
    const opened = await openDatabase({ dataDir });
    try {
      const { db } = opened;
      const prefix = `burst ${round}/`;
      const materials = await db.selectFrom('material').select(['id', 'name']).where('name', 'like', `${prefix}%`).execute();
      const labels = await db.selectFrom('label').select(['id', 'material_id', 'source']).where('source', 'like', `${prefix}%`).execute();
      const materialIds = new Set(materials.map((m) => String(m.id)));
      const labelById = new Map(labels.map((l) => [String(l.id), l]));

      for (const ack of acks) {
        for (const id of ack.materialIds) assert.ok(materialIds.has(id), `acknowledged material ${id} (batch ${ack.batch}) is missing`);
        const label = labelById.get(ack.labelId);
        assert.ok(label, `acknowledged label ${ack.labelId} (batch ${ack.batch}) is missing`);
        assert.equal(String(label.material_id), ack.materialIds[0]);
      }
      // All or nothing: every batch that is there is complete (the one cut off by the kill included).
      const perBatch = new Map<string, number>();
      for (const m of materials) perBatch.set(m.name!, (perBatch.get(m.name!) ?? 0) + 1);
      for (const [name, count] of perBatch) assert.equal(count, BATCH, `${name} is half-written`);
      // Nothing beyond the kill: at most the batch in flight (and its label) got committed unacknowledged.
      assert.ok(perBatch.size <= acks.length + 1, `${perBatch.size} batches for ${acks.length} acknowledgements`);
      for (const label of labels) assert.ok(materialIds.has(String(label.material_id)));

      // The recovered database takes writes.
      const [added] = await addMaterials(db, [{ composition: `Li2O${round}`, name: `after crash ${round}` }], {
        maxSites: 100,
        maxTextBytes: 100_000,
        maxBatchSize: 10,
      });
      assert.ok(added?.id);
    } finally {
      await opened.close();
    }
  }
});
