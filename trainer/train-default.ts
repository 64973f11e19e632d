/**
 * Training the shipped default model (`ionsieve train-default`, src/cli/train-default.ts): the
 * labelled OBELiX structures of the seed folder (read straight from data/, no database) →
 * runTraining → data/models/default/{artifact.json, manifest.json}. Deterministic for a given
 * seed, thread count and backend.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { resolveHyperparameters, trainDefaultHyperparameters, type Hyperparameters } from '../src/model/index.js';
import { DEFAULT_MODEL_DIR, type DefaultModelManifest } from '../src/services/models.js';
import { OBELIX_DIR } from '../src/services/seed.js';
import { loadObelixDataset } from '../src/training/obelix-dataset.js';
import { runTraining } from './training-run.js';
import { usableForTraining } from '../src/training/every-row.js';

export const DEFAULT_MODEL_NAME = 'default';

export interface TrainDefaultOptions {
  /** Folder holding obelix/ (and models/default/, written). */
  seedDir: string;
  /** Output folder; default `<seedDir>/models/default`. */
  outDir?: string;
  /** Overrides of the default hyperparameters (e.g. maxEpochs for a quick check). */
  overrides?: Partial<Hyperparameters>;
  logger: Logger;
  /** The command line recorded in the manifest. */
  command: string;
}

/**
 * Where the default configuration comes from: the grouped validation in docs/RESULTS.md picks
 * `trainDefaultHyperparameters`; say so in every manifest.
 */
export const DEFAULT_CONFIGURATION_SOURCE =
  'trainDefaultHyperparameters (src/model/hyperparameters.ts, preset DEFAULT: the paper backbone with the cross-entropy objective and the composition descriptors joined to the pooled vector), the winner of the grouped 5-fold validation in docs/RESULTS.md ("Choosing the default", "Composition descriptors")';

export async function trainDefaultModel(opts: TrainDefaultOptions): Promise<DefaultModelManifest> {
  const obelixDir = join(opts.seedDir, OBELIX_DIR);
  const h = resolveHyperparameters({ ...trainDefaultHyperparameters, ...opts.overrides });
  const entries = (await loadObelixDataset(obelixDir)).filter((e) => usableForTraining(e, h));
  const dataHash = await hashTrainingData(obelixDir, entries);
  const labels = entries.map((e) => e.label);
  opts.logger.info({ crystals: entries.length, fast: labels.filter((l) => l === 1).length, dataHash }, 'training the default model');

  const started = performance.now();
  const run = await runTraining(
    entries,
    labels,
    h,
    {
      onEpoch: (p) =>
        opts.logger.info(
          { epoch: p.epoch, trainLoss: p.trainLoss, validationLoss: p.validationLoss, atomsPerSecond: Math.round(p.atomsPerSecond), seconds: Math.round(p.elapsedMs / 1000) },
          'epoch',
        ),
    },
  );
  const wallSeconds = (performance.now() - started) / 1000;
  run.model.dispose();

  const outDir = opts.outDir ?? join(opts.seedDir, DEFAULT_MODEL_DIR);
  await mkdir(outDir, { recursive: true });
  const artifactText = JSON.stringify(run.artifact);
  const manifest: DefaultModelManifest = {
    name: DEFAULT_MODEL_NAME,
    hyperparameters: h,
    configurationSource: DEFAULT_CONFIGURATION_SOURCE,
    labelCounts: { fast: labels.filter((l) => l === 1).length, poor: labels.filter((l) => l === 0).length },
    trainingIds: entries.map((e) => e.id),
    dataHash,
    backend: run.fit.backend,
    seed: h.seed,
    epochs: run.curve.length,
    bestEpoch: run.fit.bestEpoch,
    wallSeconds: Math.round(wallSeconds * 10) / 10,
    command: opts.command,
    threshold: run.calibration.threshold,
    metrics: run.calibration.metrics,
    trainingCurve: run.curve.map((p) => ({
      epoch: p.epoch,
      trainLoss: Number.isFinite(p.trainLoss) ? p.trainLoss : null,
      validationLoss: Number.isFinite(p.validationLoss) ? p.validationLoss : null,
    })),
    createdAt: new Date().toISOString(),
    artifactBytes: Buffer.byteLength(artifactText),
  };
  await writeFile(join(outDir, 'artifact.json'), artifactText + '\n', 'utf8');
  await writeFile(join(outDir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n', 'utf8');
  opts.logger.info({ outDir, wallSeconds: manifest.wallSeconds, epochs: manifest.epochs, artifactBytes: manifest.artifactBytes, threads: run.fit.threads, blasThreads: run.fit.blasThreads }, 'default model written');
  return manifest;
}

/** sha256 over the manifest and the CIF of every training crystal (in id order). */
async function hashTrainingData(obelixDir: string, entries: readonly { id: string; structure: unknown }[]): Promise<string> {
  const hash = createHash('sha256');
  hash.update(await readFile(join(obelixDir, 'manifest.csv')));
  for (const { id, structure } of [...entries].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
    hash.update(`\n${id}\n`);
    // A formula-only row is in the manifest, hashed above.
    if (structure !== null) hash.update(await readFile(join(obelixDir, 'cifs', `${id}.cif`)));
  }
  return `sha256:${hash.digest('hex')}`;
}
