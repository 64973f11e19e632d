/**
 * Embedding-job benchmark (npm run bench:embed = tsx bench/embed.ts [--n 2000] [--passes 1,2,1]):
 * the `embed_materials` job's work (services/embeddings.ts embedMissingMaterials: keyset pages
 * of structures from the store → crystal graphs → k-NAGCN embeddings → pgvector rows) over N
 * imported structures, on one thread and with the second thread (ParallelEmbedder), back to back
 * on the same embedded PGlite database (in memory) and machine.
 *
 * Structures: the 254 OBELiX training crystals (mean 103 atoms), repeated with the lattice
 * scaled by 1 + 1e-4·copy so that every copy is a distinct material. Model: the paper preset
 * (k 12, F 96, 3 conv layers, E 32) with seeded random weights — speed does not depend on the
 * values. Prints wall time, structures/s, the process CPU time (all threads) and the 1-minute
 * load average around each pass: the dev machine is shared, so compare passes of one run.
 */
import { availableParallelism, loadavg } from 'node:os';
import { pino } from 'pino';
import { createModel, initBackend, paperHyperparameters, saveArtifact } from '../src/model/index.js';
import { embedMissingMaterials } from '../src/services/embeddings.js';
import { insertOrFindMaterials, structureMaterialRow } from '../src/services/material-rows.js';
import { openDatabase } from '../src/store/database.js';
import { migrateToLatest } from '../src/store/migrate.js';
import type { Structure } from '../src/structure/structure.js';
import { loadObelix } from '../test/support/obelix.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: string) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : fallback;
};
const N = Number(flag('--n', '2000'));
const passes = flag('--passes', '1,2,1').split(',').map((p) => (p.trim() === '1' ? 1 : 2));
if (!Number.isInteger(N) || N < 1) throw new Error('--n must be a positive integer');

const line = (label: string, value: string) => console.log(`${label.padEnd(40)} ${value}`);
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

const backend = await initBackend('auto');
line('backend', `${backend.name} (${backend.provider}), ${availableParallelism()} cores, load average ${loadavg()[0]!.toFixed(1)}`);
const opened = await openDatabase({ dataDir: 'memory://' });
const { db } = opened;
try {
  await migrateToLatest(db);
  const base = loadObelix().map((row) => row.structure);
  const scaled = (s: Structure, copy: number): Structure => {
    const f = 1 + 1e-4 * copy;
    return { ...s, lattice: s.lattice.map((row) => row.map((x) => x * f)) as Structure['lattice'] };
  };
  let t = performance.now();
  let sites = 0;
  for (let start = 0; start < N; start += 500) {
    const rows = [];
    for (let i = start; i < Math.min(N, start + 500); i++) {
      const s = scaled(base[i % base.length]!, Math.floor(i / base.length));
      sites += s.sites.length;
      rows.push(structureMaterialRow(s, { source: 'bench-embed' }));
    }
    await insertOrFindMaterials(db, rows);
  }
  line('structures imported', `${N} (${(sites / N).toFixed(0)} sites on average) in ${((performance.now() - t) / 1000).toFixed(1)} s`);

  const model = createModel(paperHyperparameters);
  const artifact = JSON.stringify(saveArtifact(model));
  model.dispose();
  const logger = pino({ level: 'silent' });
  for (const [p, threads] of passes.entries()) {
    // A model row per pass, so every pass embeds all N from scratch.
    const row = await db
      .insertInto('model')
      .values({ name: `bench-embed ${p}`, hyperparameters: JSON.stringify(paperHyperparameters), status: 'READY', embedding_dim: paperHyperparameters.embeddingDim, distance: 'EUCLIDEAN', weights: artifact })
      .returning('id')
      .executeTakeFirstOrThrow();
    const load0 = loadavg()[0]!;
    const cpu0 = cpuMs();
    t = performance.now();
    const result = await embedMissingMaterials(db, String(row.id), { logger, threads: threads === 1 ? 1 : 'auto' });
    const seconds = (performance.now() - t) / 1000;
    const cpu = (cpuMs() - cpu0) / 1000;
    line(
      `pass ${p + 1}: embed_materials, ${threads === 1 ? '1 thread' : "threads 'auto'"}`,
      `${result.embedded} embedded (${result.skipped.length} skipped) (pages on 1 / 2 threads: ${result.pages.oneThread} / ${result.pages.twoThreads}) in ${seconds.toFixed(1)} s = ${(result.embedded / seconds).toFixed(1)} structures/s ` +
        `(CPU ${cpu.toFixed(1)} s; load ${load0.toFixed(1)} → ${loadavg()[0]!.toFixed(1)})`,
    );
  }
} finally {
  await opened.close();
}
line('peak RSS', `${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
