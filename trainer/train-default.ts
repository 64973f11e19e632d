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
import { BadInputError } from '../src/errors.js';
import { HYPERPARAMETER_PRESETS, resolveHyperparameters, resolveStoredHyperparameters, trainDefaultHyperparameters, type Hyperparameters } from '../src/model/index.js';
import { DEFAULT_MODEL_DIR, type DefaultModelManifest, type ModelDecision, type ModelMetrics } from '../src/services/models.js';
import type { EvaluationReport } from '../src/training/evaluate.js';
import { decisionOn, toModelMetrics } from './calibrate.js';
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
  /** An `ionsieve evaluate` JSON file of this very configuration: its grouped-CV figures become the model's held-out estimate. */
  heldOutFile?: string;
  /** The variant of that file the product scores by (needed when several fit the model). */
  heldOutVariant?: string;
}

/**
 * Where the default configuration comes from (docs/RESULTS.md says why, with what was measured);
 * say so in every manifest.
 */
export const DEFAULT_CONFIGURATION_SOURCE =
  'trainDefaultHyperparameters (src/model/hyperparameters.ts, preset DEFAULT: the invariant knagcn-smooth backbone with the composition pathway, trained on every labelled row after a 200-epoch composition warm-up, alignment 1, an ensemble of 3); docs/RESULTS.md, "Composition warm-up"';

export async function trainDefaultModel(opts: TrainDefaultOptions): Promise<DefaultModelManifest> {
  const obelixDir = join(opts.seedDir, OBELIX_DIR);
  const h = resolveHyperparameters({ ...trainDefaultHyperparameters, ...opts.overrides });
  const entries = (await loadObelixDataset(obelixDir)).filter((e) => usableForTraining(e, h));
  // Read (and checked against h) before the fit: a wrong file should fail in a second, not after it.
  const heldOut = opts.heldOutFile ? await readHeldOutFigures(opts.heldOutFile, h, opts.heldOutVariant) : null;
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
    // With held-out figures the threshold is the one chosen on their out-of-fold scores.
    threshold: heldOut ? heldOut.decision.threshold : run.calibration.threshold,
    distanceScale: run.distanceScale,
    metrics: heldOut ? [heldOut.metrics, run.calibration.metrics] : [run.calibration.metrics],
    ...(heldOut
      ? { decision: heldOut.decision, outOfFold: heldOut.outOfFold }
      : { decision: run.calibration.decision, heldOutNote: 'no held-out estimate: train-default ran without --held-out (see docs/trainer.md)' }),
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

export interface HeldOutFigures {
  metrics: ModelMetrics;
  decision: ModelDecision;
  outOfFold: NonNullable<DefaultModelManifest['outOfFold']>;
}

interface EvaluateDocument {
  command?: string;
  options?: {
    protocol?: string;
    preset?: string;
    epochs?: number;
    layers?: number;
    ceWeight?: number;
    compositionDescriptors?: boolean;
    members?: number;
    validation?: string;
    structures?: string;
    set?: Record<string, number | boolean | string>;
    compositionViews?: boolean;
  };
  report?: EvaluationReport;
}

/**
 * The grouped-CV figures of `h` from an `ionsieve evaluate` JSON file: the distance-ratio variant
 * with h's objective, k and distance. Refuses (BadInputError naming the difference) a file whose
 * configuration is not h's (seed aside: each CV seed fits its own models) — figures of another
 * configuration must not pass for this model's. Metrics are means over the file's seeds; the
 * decision threshold is chosen on all seeds' out-of-fold scores pooled; the per-material
 * out-of-fold scores are the first seed's.
 */
export async function readHeldOutFigures(file: string, h: Hyperparameters, variantName?: string): Promise<HeldOutFigures> {
  let doc: EvaluateDocument;
  try {
    doc = JSON.parse(await readFile(file, 'utf8')) as EvaluateDocument;
  } catch (error) {
    throw new BadInputError(`--held-out ${file}: not a readable JSON file (${(error as Error).message})`);
  }
  const { options, report } = doc;
  if (!options || !report?.variants) throw new BadInputError(`--held-out ${file}: not an \`ionsieve evaluate\` output (no options/report)`);
  if (report.protocol !== 'GROUP_KFOLD') throw new BadInputError(`--held-out ${file}: protocol ${report.protocol}; the shipped model's estimate must be GROUP_KFOLD`);
  // every-row (one model over all rows) takes members as a hyperparameter; gnn-ce's members are an ensemble method.
  const everyRow = report.variants.some((v) => v.method.startsWith('every-row'));
  if (!everyRow && (options.members ?? 1) !== 1) throw new BadInputError(`--held-out ${file}: evaluated an ensemble of ${options.members}; the shipped model is one network`);
  if ((options.validation ?? 'crystals') !== 'crystals') throw new BadInputError(`--held-out ${file}: early stopping on ${options.validation}; train-default stops on 10 % held-out crystals`);
  const presetName = (options.preset ?? 'paper') as keyof typeof HYPERPARAMETER_PRESETS;
  const preset = HYPERPARAMETER_PRESETS[presetName];
  if (!preset) throw new BadInputError(`--held-out ${file}: unknown preset ${options.preset}`);
  const evaluated = resolveHyperparameters({
    ...preset,
    ...(options.epochs !== undefined ? { maxEpochs: options.epochs } : {}),
    ...(options.layers !== undefined ? { layers: options.layers } : {}),
    ...(options.ceWeight !== undefined ? { crossEntropyWeight: options.ceWeight } : {}),
    ...(options.compositionDescriptors !== undefined ? { compositionDescriptors: options.compositionDescriptors } : {}),
    ...(everyRow && (options.members ?? 1) > 1 ? { members: options.members } : {}),
    ...(everyRow && options.compositionViews === false ? { compositionViews: false } : {}),
    ...(everyRow ? (options.set ?? {}) : {}),
    k: h.k,
    objective: h.objective,
    distance: h.distance,
    seed: h.seed,
  });
  const differences = (Object.keys(h) as (keyof Hyperparameters)[]).filter((key) => JSON.stringify(h[key]) !== JSON.stringify(evaluated[key]));
  if (differences.length > 0) {
    throw new BadInputError(
      `--held-out ${file}: evaluated another configuration than this model's: ${differences.map((key) => `${key} ${JSON.stringify(evaluated[key])} there, ${JSON.stringify(h[key])} here`).join('; ')}`,
    );
  }
  const candidates = variantName
    ? report.variants.filter((v) => v.variant === variantName)
    : report.variants.filter(
        (v) => v.attributes.objective === h.objective && v.attributes.neighbours === h.k && v.attributes.distance === h.distance && !/ensemble|P\(FAST\)/.test(v.variant),
      );
  const names = report.variants.map((v) => JSON.stringify(v.variant)).join(', ');
  if (candidates.length === 0) {
    throw new BadInputError(
      variantName
        ? `--held-out ${file}: no variant named ${JSON.stringify(variantName)} (variants: ${names})`
        : `--held-out ${file}: no distance-ratio variant with objective ${h.objective}, k = ${h.k}, ${h.distance} (variants: ${names})`,
    );
  }
  // Several scores of one model (every-row reports several ratios): the caller names the product's.
  if (candidates.length > 1) {
    throw new BadInputError(`--held-out ${file}: ${candidates.length} variants fit this model; name the one the product scores by with --variant (candidates: ${candidates.map((v) => JSON.stringify(v.variant)).join(', ')})`);
  }
  const variant = candidates[0]!;
  if (variant.perSeed.length === 0) throw new BadInputError(`--held-out ${file}: variant ${JSON.stringify(variant.variant)} has no results`);
  const mean = (key: string) => variant.summary[key]?.mean ?? null;
  const pooled = variant.perSeed.flatMap((s) => s.scores);
  const decision = decisionOn('GROUP_KFOLD', pooled.map((r) => r.score), pooled.map((r) => r.label));
  const sd = variant.summary.rocAuc?.sd;
  const metrics = toModelMetrics(
    'GROUP_KFOLD',
    {
      accuracy: mean('calibrated.accuracy')!,
      sensitivity: mean('calibrated.sensitivity')!,
      specificity: mean('calibrated.specificity')!,
      balancedAccuracy: mean('calibrated.balancedAccuracy')!,
      rocAuc: mean('rocAuc')!,
      prAuc: mean('prAuc')!,
      threshold: decision.threshold,
      n: variant.perSeed[0]!.n,
    },
    {
      folds: report.folds,
      seeds: variant.perSeed.map((s) => s.seed),
      rocAucSd: variant.perSeed.length > 1 && Number.isFinite(sd) ? sd! : null,
      source: doc.command ? `ionsieve ${doc.command}` : file,
      note: `${variant.variant}: means over seeds; accuracy/sensitivity/specificity at each fold's threshold calibrated on its training rows`,
    },
  );
  const outOfFold = variant.perSeed[0]!.scores.map((r) => ({ sourceId: r.id, label: r.label === 1 ? ('FAST' as const) : ('POOR' as const), score: r.score, fold: r.fold }));
  return { metrics, decision, outOfFold };
}

/**
 * Gives an already trained default model (manifest.json in `outDir`) the held-out figures of an
 * evaluate file, without retraining: `ionsieve train-default --held-out FILE --attach-only`.
 */
export async function attachHeldOutFigures(outDir: string, file: string, variantName?: string): Promise<DefaultModelManifest> {
  const path = join(outDir, 'manifest.json');
  const manifest = JSON.parse(await readFile(path, 'utf8')) as DefaultModelManifest;
  const heldOut = await readHeldOutFigures(file, resolveStoredHyperparameters(manifest.hyperparameters), variantName);
  const fit = (Array.isArray(manifest.metrics) ? manifest.metrics : [manifest.metrics]).filter((m) => m.protocol === 'TRAIN');
  const { heldOutNote: _dropped, ...rest } = manifest;
  const updated: DefaultModelManifest = {
    ...rest,
    threshold: heldOut.decision.threshold,
    metrics: [heldOut.metrics, ...fit],
    decision: heldOut.decision,
    outOfFold: heldOut.outOfFold,
  };
  await writeFile(path, JSON.stringify(updated, null, 2) + '\n', 'utf8');
  return updated;
}
