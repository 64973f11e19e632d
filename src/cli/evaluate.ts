/**
 * `ionsieve evaluate`: cross-validate the k-NAGCN metric-learning model and the baselines on the
 * labelled OBELiX files (no database needed) and write the results as JSON.
 *
 *   ionsieve evaluate --data-dir data/obelix --methods rf,knn --seeds 0,1,2
 *   ionsieve evaluate --methods gnn,gnn-ce --neighbours 4,8,12 --epochs 20 --out eval.json
 *   ionsieve evaluate --protocol loo --limit 60 --methods gnn   # the paper's LOO, on a subset
 *
 * Wiring (src/cli/main.ts): `registerEvaluateCommand(program)`.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import cliProgress from 'cli-progress';
import { Command, InvalidArgumentError, Option } from 'commander';
import { BadInputError } from '../errors.js';
import {
  evaluate,
  formatResultsTable,
  mergeReports,
  type EvaluationMethod,
  type EvaluationProgress,
  type EvaluationProtocol,
  type EvaluationReport,
} from '../training/evaluate.js';
import { compositionKnnMethod, compositionRandomForestMethod, everyRowMethod, gnnMethods } from '../training/evaluation-methods.js';
import { loadObelixDataset, type StructureSource } from '../training/obelix-dataset.js';
import { HYPERPARAMETER_PRESETS } from '../model/index.js';

const METHOD_NAMES = ['rf', 'knn', 'gnn', 'gnn-ce', 'gnn-joint', 'every-row'] as const;
type MethodName = (typeof METHOD_NAMES)[number];

interface EvaluateCommandOptions {
  dataDir: string;
  structures: 'cif' | 'p1-jsonl';
  protocol: 'group-kfold' | 'loo';
  folds: number;
  seeds: number[];
  limit?: number;
  methods: MethodName[];
  neighbours: number[];
  distances: ('EUCLIDEAN' | 'COSINE')[];
  epochs?: number;
  preset?: string;
  layers?: number;
  ceWeight?: number;
  compositionDescriptors?: boolean;
  members: number;
  /** every-row: hyperparameter overrides as name=value (numbers, booleans, strings). */
  set?: Record<string, number | boolean | string>;
  compositionViews: boolean;
  formulasOnly?: boolean;
  validation: 'crystals' | 'pairs' | 'none';
  rfTrees: number;
  knnK: number;
  out: string;
  progress: boolean;
}

export function registerEvaluateCommand(program: Command): Command {
  return program
    .command('evaluate')
    .description('cross-validate the metric-learning model and the baselines on the labelled data files; writes JSON results')
    .option('--data-dir <dir>', 'folder with manifest.csv, cifs/ (and structures_p1.jsonl)', 'data/obelix')
    .addOption(new Option('--structures <source>', 'where structures come from').choices(['cif', 'p1-jsonl']).default('cif'))
    .addOption(new Option('--protocol <protocol>', 'grouped k-fold, or leave-one-out (one fit per row: use --limit)').choices(['group-kfold', 'loo']).default('group-kfold'))
    .option('--folds <n>', 'folds for group-kfold', positiveInt, 5)
    .option('--seeds <list>', 'comma-separated seeds; one full cross-validation each', intList, [0, 1, 2])
    .option('--limit <n>', 'evaluate on a stratified random subset of n rows (cheap runs, LOO)', positiveInt)
    .option('--methods <list>', `comma-separated, from ${METHOD_NAMES.join(', ')}`, methodList, ['rf', 'knn', 'gnn', 'gnn-ce'])
    .option('--neighbours <list>', 'k-NAGCN neighbour counts k (one model per k)', intList, [4, 8, 12])
    .option('--distances <list>', 'distances for the ratio score: euclidean, cosine', distanceList, ['EUCLIDEAN', 'COSINE'])
    .option('--epochs <n>', 'maximum GNN training epochs (overrides the preset)', positiveInt)
    .option('--preset <name>', `GNN hyperparameter preset (${Object.keys(HYPERPARAMETER_PRESETS).join(', ')})`, 'paper')
    .option('--layers <n>', 'graph-convolution layers (overrides the preset)', positiveInt)
    .option('--ce-weight <w>', 'weight of the cross-entropy term of gnn-joint (overrides the preset)', positiveNumber)
    .option('--composition-descriptors', 'join the composition descriptors to the pooled crystal vector (overrides the preset)')
    .option('--no-composition-descriptors', 'leave them out (overrides the preset)')
    .option('--set <name=value...>', 'every-row: hyperparameter overrides, e.g. --set featureLength=64 marginAngstrom=0.5 distanceScaleQuantile=null (null for plain distances)', parseSettings)
    .option('--no-composition-views', 'every-row: do not train on composition-only copies of the structure rows')
    .option('--formulas-only', 'every-row: train and score every row by its formula alone (the composition pathway on its own)')
    .option('--members <n>', 'gnn-ce: an ensemble of n fits per fold, scored on their concatenated embeddings', positiveInt, 1)
    .addOption(
      new Option('--validation <mode>', "GNN early stopping inside the training folds: 10 % of crystals, the paper's 10 % of pairs, or none")
        .choices(['crystals', 'pairs', 'none'])
        .default('crystals'),
    )
    .option('--rf-trees <n>', 'random-forest trees', positiveInt, 300)
    .option('--knn-k <n>', 'kNN neighbours', positiveInt, 5)
    .option('--out <file>', 'JSON results file', `.ionsieve/evaluations/evaluate-${new Date().toISOString().replace(/[:.]/g, '-')}.json`)
    .option('--no-progress', 'no progress bars on stderr')
    .action(async (options: EvaluateCommandOptions) => {
      await runEvaluateCommand(options);
    });
}

/** `ionsieve evaluate-merge a.json b.json --out all.json`: seeds run side by side, read as one run. */
export function registerEvaluateMergeCommand(program: Command): Command {
  return program
    .command('evaluate-merge')
    .description('join `ionsieve evaluate` files of the same evaluation run with different seeds into one (summaries over all seeds)')
    .argument('<files...>', 'evaluate JSON files')
    .requiredOption('--out <file>', 'merged JSON file')
    .action(async (files: string[], opts: { out: string }) => {
      const documents = await Promise.all(files.map(async (file) => ({ file, ...(await readEvaluateDocument(file)) })));
      const merged = mergeEvaluateDocuments(documents);
      await mkdir(dirname(opts.out), { recursive: true });
      await writeFile(opts.out, JSON.stringify(merged, jsonNumbers, 2) + '\n');
      process.stdout.write(`${formatResultsTable(merged.report)}\nresults: ${opts.out} (seeds ${merged.report.seeds.join(', ')})\n`);
    });
}

interface EvaluateDocument {
  command: string;
  options: Record<string, unknown> & { seeds: number[] };
  report: EvaluationReport;
}

/** Options that do not change what a run measures (besides its seeds). */
const RUN_ONLY_OPTIONS = new Set(['seeds', 'out', 'progress']);

export function mergeEvaluateDocuments(documents: readonly (EvaluateDocument & { file: string })[]): EvaluateDocument {
  const [first] = documents;
  if (!first) throw new BadInputError('evaluate-merge needs at least one file');
  const measured = (d: EvaluateDocument) => JSON.stringify(Object.entries(d.options).filter(([key]) => !RUN_ONLY_OPTIONS.has(key)).sort(([a], [b]) => a.localeCompare(b)));
  for (const d of documents) {
    if (!d.options || !d.report?.variants) throw new BadInputError(`${d.file}: not an \`ionsieve evaluate\` output (no options/report)`);
    if (measured(d) !== measured(first)) throw new BadInputError(`${d.file}: ran other options than ${first.file} (only --seeds may differ)`);
  }
  const report = mergeReports(documents.map((d) => d.report));
  return { command: documents.map((d) => d.command).join(' and ionsieve '), options: { ...first.options, seeds: report.seeds }, report };
}

async function readEvaluateDocument(file: string): Promise<EvaluateDocument> {
  try {
    return JSON.parse(await readFile(file, 'utf8'), restoreNumbers) as EvaluateDocument;
  } catch (error) {
    throw new BadInputError(`${file}: not a readable JSON file (${(error as Error).message})`);
  }
}

/** The inverse of jsonNumbers: NaN and ±Infinity were written as strings. */
function restoreNumbers(_key: string, value: unknown): unknown {
  return value === 'NaN' || value === 'Infinity' || value === '-Infinity' ? Number(value) : value;
}

export async function runEvaluateCommand(options: EvaluateCommandOptions): Promise<EvaluationReport> {
  const gnn = options.methods.some((m) => m === 'gnn' || m === 'gnn-ce' || m === 'gnn-joint');
  const structureSource: StructureSource = gnn || options.methods.includes('every-row')
    ? options.structures === 'p1-jsonl'
      ? 'P1_JSONL'
      : 'CIF'
    : 'NONE';
  const entries = await loadObelixDataset(options.dataDir, { structureSource });
  const methods: EvaluationMethod[] = [];
  if (options.methods.includes('rf')) methods.push(compositionRandomForestMethod({ nTrees: options.rfTrees }));
  if (options.methods.includes('knn')) methods.push(compositionKnnMethod({ k: options.knnK }));
  if (options.methods.includes('every-row')) {
    methods.push(
      everyRowMethod({
        preset: options.preset ?? 'default',
        maxEpochs: options.epochs,
        overrides: {
          ...(options.layers !== undefined ? { layers: options.layers } : {}),
          ...(options.members > 1 ? { members: options.members } : {}),
          ...(options.compositionViews ? {} : { compositionViews: false }),
          ...(options.set ?? {}),
        },
        validation: options.validation === 'none' ? { mode: 'none' } : { mode: 'crystals', fraction: 0.1 },
        formulasOnly: options.formulasOnly ?? false,
      }),
    );
  }
  if (gnn) {
    methods.push(
      ...gnnMethods({
        contrastive: options.methods.includes('gnn'),
        crossEntropy: options.methods.includes('gnn-ce'),
        joint: options.methods.includes('gnn-joint'),
        neighbours: options.neighbours,
        distances: options.distances,
        preset: options.preset,
        maxEpochs: options.epochs,
        overrides: {
          ...(options.layers !== undefined ? { layers: options.layers } : {}),
          ...(options.ceWeight !== undefined ? { crossEntropyWeight: options.ceWeight } : {}),
          ...(options.compositionDescriptors !== undefined ? { compositionDescriptors: options.compositionDescriptors } : {}),
        },
        members: options.members,
        validation: options.validation === 'none' ? { mode: 'none' } : { mode: options.validation, fraction: 0.1 },
      }),
    );
  }

  const progress = options.progress && process.stderr.isTTY ? createProgressReporter() : createLineReporter();
  let report: EvaluationReport;
  try {
    report = await evaluate(entries, {
      protocol: (options.protocol === 'loo' ? 'LOO' : 'GROUP_KFOLD') satisfies EvaluationProtocol,
      folds: options.folds,
      seeds: options.seeds,
      limit: options.limit,
      methods,
      onProgress: progress.update,
    });
  } finally {
    progress.stop();
  }

  const document = { command: process.argv.slice(2).join(' '), options, report };
  await mkdir(dirname(options.out), { recursive: true });
  await writeFile(options.out, JSON.stringify(document, jsonNumbers, 2) + '\n');
  process.stdout.write(`${formatResultsTable(report)}\n`);
  if (report.variants.some((v) => v.summaryOnStructureRows)) {
    process.stdout.write(`\nComposition methods on the structure rows only (the GNN's test rows):\n${formatResultsTable(report, { onStructureRows: true })}\n`);
  }
  for (const split of report.splits) {
    if (split.straddlingFamilies?.length) process.stdout.write(`seed ${split.seed}: families across folds: ${split.straddlingFamilies.join(', ')}\n`);
  }
  if (report.skipped.length) process.stdout.write(`skipped ${report.skipped.length} fold(s): ${report.skipped.map((s) => `${s.method}@${s.seed}/${s.fold} (${s.reason})`).join('; ')}\n`);
  process.stdout.write(`results: ${options.out} (${report.durationSeconds.toFixed(0)} s)\n`);
  return report;
}

interface ProgressReporter {
  update(event: EvaluationProgress): void;
  stop(): void;
}

/** Two bars on stderr: cross-validation units (seed × fold × method) and steps inside a unit. */
function createProgressReporter(): ProgressReporter {
  const bars = new cliProgress.MultiBar(
    { stream: process.stderr, format: '{name} [{bar}] {value}/{total} {note}', hideCursor: true, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  );
  let units: cliProgress.SingleBar | undefined;
  let steps: cliProgress.SingleBar | undefined;
  return {
    update(event) {
      if (event.kind === 'start') units = bars.create(event.totalUnits, 0, { name: 'folds', note: '' });
      else if (event.kind === 'unit-start') {
        units?.update(event.unit - 1, { note: `seed ${event.seed} fold ${event.fold} ${event.method}` });
      } else if (event.kind === 'step') {
        if (!steps) steps = bars.create(event.total, 0, { name: 'steps', note: '' });
        steps.setTotal(event.total);
        steps.update(event.done, { note: event.note ?? '' });
      } else if (event.kind === 'unit-done') units?.update(event.unit, { note: `${event.method} ${event.seconds.toFixed(1)} s` });
      else if (event.kind === 'skip') bars.log(`skip seed ${event.seed} fold ${event.fold} ${event.method}: ${event.reason}\n`);
    },
    stop() {
      bars.stop();
    },
  };
}

/** Without bars (logs, nohup): one stderr line per finished unit. */
function createLineReporter(): ProgressReporter {
  let total = 0;
  return {
    update(event) {
      if (event.kind === 'start') total = event.totalUnits;
      else if (event.kind === 'unit-done') {
        process.stderr.write(`[${event.unit}/${total}] seed ${event.seed} fold ${event.fold} ${event.method}: ${event.seconds.toFixed(1)} s\n`);
      } else if (event.kind === 'skip') process.stderr.write(`skip seed ${event.seed} fold ${event.fold} ${event.method}: ${event.reason}\n`);
    },
    stop() {},
  };
}

/** JSON has no NaN or ±Infinity: write them as strings instead of a silent null. */
function jsonNumbers(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? String(value) : value;
}

function positiveInt(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new InvalidArgumentError('expected a positive integer');
  return value;
}

function positiveNumber(text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new InvalidArgumentError('expected a positive number');
  return value;
}

function intList(text: string): number[] {
  const values = text.split(',').map((s) => Number(s.trim()));
  if (values.length === 0 || values.some((v) => !Number.isInteger(v))) throw new InvalidArgumentError('expected comma-separated integers');
  return values;
}

function parseSettings(text: string, previous: Record<string, number | boolean | string | null> = {}): Record<string, number | boolean | string | null> {
  const [name, value] = text.split('=');
  if (!name || value === undefined) throw new InvalidArgumentError(`expected name=value, got "${text}"`);
  const parsed = value === 'true' ? true : value === 'false' ? false : value === 'null' ? null : Number.isFinite(Number(value)) ? Number(value) : value;
  return { ...previous, [name]: parsed };
}

function methodList(text: string): MethodName[] {
  const names = text.split(',').map((s) => s.trim());
  const unknown = names.filter((n) => !(METHOD_NAMES as readonly string[]).includes(n));
  if (unknown.length) throw new InvalidArgumentError(`unknown method(s) ${unknown.join(', ')}; choose from ${METHOD_NAMES.join(', ')}`);
  return names as MethodName[];
}

function distanceList(text: string): ('EUCLIDEAN' | 'COSINE')[] {
  const names = text.split(',').map((s) => s.trim().toUpperCase());
  if (names.some((n) => n !== 'EUCLIDEAN' && n !== 'COSINE')) throw new InvalidArgumentError('distances: euclidean and/or cosine');
  return names as ('EUCLIDEAN' | 'COSINE')[];
}
