/**
 * Child process of test/faults/pglite-kill.test.ts: opens a PGlite data directory the way the CLI
 * does (openDatabase({ dataDir })), migrates, prints `ready`, then writes through the services
 * without pause, printing one acknowledgement line per write only after its commit resolved:
 *   ack <round> <batch> <material ids, comma-separated> <label id>
 * Each batch is one addMaterials call of <batchSize> materials (one transaction) followed by a
 * labelMaterial on its first material (a second transaction). It runs until it is killed.
 * Usage: node --import tsx pglite-writer.ts <dataDir> <round> <batchSize>
 */
import { writeSync } from 'node:fs';
import { addMaterials } from '../../../src/services/materials.js';
import { labelMaterial } from '../../../src/services/screening.js';
import { openDatabase } from '../../../src/store/database.js';
import { migrateToLatest } from '../../../src/store/migrate.js';

const LIMITS = { maxSites: 100, maxTextBytes: 100_000, maxBatchSize: 100 };

const [dataDir, round, batchSize] = process.argv.slice(2);
if (!dataDir || !round || !batchSize) throw new Error('usage: pglite-writer.ts <dataDir> <round> <batchSize>');
const BATCH = Number(batchSize);
// Synchronous writes to fd 1: a line is out of this process before the next write starts.
const say = (line: string) => writeSync(1, `${line}\n`);

const opened = await openDatabase({ dataDir });
await migrateToLatest(opened.db);
say('ready');
for (let batch = 0; ; batch++) {
  // Distinct compositions, so every material is a new row; the name ties it to its batch.
  const inputs = Array.from({ length: BATCH }, (_, j) => ({
    composition: `Li${1 + BATCH * batch + j}Cl${round}`,
    name: `burst ${round}/${batch}`,
  }));
  const added = await addMaterials(opened.db, inputs, LIMITS);
  const label = await labelMaterial(opened.db, { materialId: added[0]!.id, class: 'FAST', source: `burst ${round}/${batch}` });
  say(`ack ${round} ${batch} ${added.map((m) => m.id).join(',')} ${label.id}`);
}
