/**
 * `ionsieve screen`: the top of a model's ranking of unlabelled materials on stdout, as CSV (with a
 * header) or JSON lines, for pipelines. Logs go to stderr.
 *
 *   ionsieve screen --model 3 --top 100 --format csv > top100.csv
 *   ionsieve screen --top 20 --format json --nearest 5 --elements Li,S
 */
import { once } from 'node:events';
import { Option, type Command } from 'commander';
import { csvField } from '../csv.js';
import { materialsByIds, type MaterialRecord } from '../services/materials.js';
import { MAX_SCREEN_PAGE, rescoreModel, resolveScreeningModel, screen, type ScreeningCandidate } from '../services/screening.js';
import { withCliContext, type DatabaseCommandOptions } from './context.js';
import { withDatabaseOptions } from './database-options.js';
import { finiteNumber, positiveInt } from './arguments.js';

export type ScreenFormat = 'csv' | 'json';

interface ScreenCommandOptions extends DatabaseCommandOptions {
  model?: string;
  top: number;
  format: ScreenFormat;
  nearest?: number;
  minScore?: number;
  elements?: string[];
  rescore?: boolean;
}

export const SCREEN_CSV_COLUMNS = [
  'rank',
  'material_id',
  'name',
  'reduced_formula',
  'score',
  'predicted_class',
  'mean_distance_to_fast',
  'mean_distance_to_poor',
] as const;


/** One output line (without the newline) for a ranked candidate. */
export function renderCandidate(candidate: ScreeningCandidate, material: MaterialRecord | null, format: ScreenFormat): string {
  const row = {
    rank: candidate.rank,
    material_id: candidate.materialId,
    name: material?.name ?? null,
    reduced_formula: material?.reducedFormula ?? null,
    score: candidate.score,
    predicted_class: candidate.predictedClass,
    mean_distance_to_fast: candidate.meanDistanceToFast,
    mean_distance_to_poor: candidate.meanDistanceToPoor,
  };
  // JSON has no Infinity: an infinite score (mean distance to FAST exactly 0) is written as null there.
  if (format === 'json') return JSON.stringify({ ...row, score: Number.isFinite(row.score) ? row.score : null });
  return SCREEN_CSV_COLUMNS.map((column) => csvField(row[column])).join(',');
}



export function registerScreenCommand(program: Command): Command {
  return withDatabaseOptions(
    program
      .command('screen')
      .description('rank unlabelled materials by the conductor score R under a model (stdout)')
      .option('--model <id>', 'model id (default: the active model)')
      .option('--top <n>', 'how many candidates', positiveInt, 50)
      .addOption(new Option('--format <format>', 'csv (with a header) or json (one object per line)').choices(['csv', 'json']).default('csv'))
      .option('--nearest <k>', 'reference mode NEAREST(k) instead of ALL', positiveInt)
      .option('--min-score <r>', 'only candidates with R ≥ this', finiteNumber)
      .option('--elements <list>', 'only materials containing all these elements, e.g. Li,S', (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean))
      .option('--rescore', 'recompute every stored score of the model from scratch first'),
  ).action(async (opts: ScreenCommandOptions) => {
    await withCliContext(opts, async ({ db, logger }) => {
      // The operator's command may write, as the API's reads never do: --rescore rebuilds the
      // scores, and a model without any (rows written behind the services' back) is scored first.
      const model = await resolveScreeningModel(db, opts.model);
      const started = performance.now();
      if (opts.rescore) {
        await rescoreModel(db, model.id);
        logger.info({ modelId: model.id, seconds: (performance.now() - started) / 1000 }, 'model re-scored');
      } else if (await rescoreModel(db, model.id, { onlyIfMissing: true })) {
        logger.info({ modelId: model.id, seconds: (performance.now() - started) / 1000 }, 'model had no screening scores: scored first');
      }
      const stdout = process.stdout;
      const write = async (line: string) => {
        if (!stdout.write(`${line}\n`)) await once(stdout, 'drain');
      };
      if (opts.format === 'csv') await write(SCREEN_CSV_COLUMNS.join(','));
      let after: string | null = null;
      let written = 0;
      let modelId: string | undefined;
      while (written < opts.top) {
        const page = await screen(db, {
          modelId: opts.model,
          first: Math.min(MAX_SCREEN_PAGE, opts.top - written),
          after,
          minScore: opts.minScore,
          reference: opts.nearest ? { mode: 'NEAREST', k: opts.nearest } : null,
          filter: opts.elements ? { elementsHasAll: opts.elements } : null,
        });
        modelId = page.modelId;
        // ALL pages carry their material rows; NEAREST pages do not.
        const missing = page.items.filter((item) => !item.material).map((item) => item.materialId);
        const loaded = new Map((await materialsByIds(db, missing)).flatMap((m) => (m ? [[m.id, m] as const] : [])));
        for (const item of page.items) await write(renderCandidate(item, item.material ?? loaded.get(item.materialId) ?? null, opts.format));
        written += page.items.length;
        if (!page.hasNextPage) break;
        after = page.endCursor;
      }
      logger.info({ modelId, written, format: opts.format }, 'screen done');
    });
  });
}
