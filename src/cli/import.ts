/**
 * `ionsieve import <paths...>`: stream structure files and folders into the database.
 * A progress bar goes to stderr when it is a terminal, JSON log lines otherwise; the summary is
 * printed to stdout as JSON. Exit code 2 when some files failed (the others are imported).
 */
import type { Command } from 'commander';
import { BadInputError } from '../errors.js';
import type { ImportProgress } from '../services/ingest.js';
import { withCliContext, type DatabaseCommandOptions } from './context.js';
import { positiveInt } from './arguments.js';
import { withDatabaseOptions } from './database-options.js';
import type { OptimadeCliOptions } from './import-optimade.js';

/** Seconds between progress log lines when stderr is not a terminal. */
const LOG_INTERVAL_MS = 2000;
/** Failures listed one by one in the log; the rest are counted. */
const MAX_LOGGED_FAILURES = 50;

interface ImportCommandOptions extends DatabaseCommandOptions, OptimadeCliOptions {
  batchSize: number;
  source?: string;
  actor?: string;
  allowUnusualDensity?: boolean;
  progress: boolean;
}


export function registerImportCommand(program: Command): Command {
  return withDatabaseOptions(
    program
      .command('import')
      .description(
        'import structure files (.cif, .vasp, POSCAR, CONTCAR, .json, .jsonl) and folders, recursively; ' +
          'or, with --optimade BASE_URL, the structures of an OPTIMADE provider (host on IONSIEVE_OPTIMADE_HOSTS)',
      )
      .argument('[paths...]', 'files or folders')
      .option('--optimade <baseUrl>', 'import from this OPTIMADE provider (pages of BASE_URL/v1/structures) instead of files')
      .option('--filter <filter>', 'OPTIMADE filter for --optimade, e.g. \'elements HAS "Li" AND nelements<=4\'')
      .option('--max-entries <n>', 'stop an OPTIMADE import after this many entries', positiveInt)
      .option('--page-limit <n>', 'entries per OPTIMADE page (page_limit; default 100, at most 1000)', positiveInt)
      .option('--resume <jobId>', 'continue an interrupted OPTIMADE import at its stored cursor')
      .option('--batch-size <n>', 'structures per transaction', positiveInt, 500)
      .option('--source <text>', 'source recorded on each material (a JSON record may name its own)')
      .option('--actor <name>', 'recorded as created_by')
      .option('--allow-unusual-density', 'store structures whose density is outside [0.1, 25] g/cm³ (reported as failed otherwise)')
      .option('--no-progress', 'no progress bar, log lines only'),
  ).action(async (paths: string[], opts: ImportCommandOptions) => {
    if (opts.optimade !== undefined || opts.resume !== undefined) {
      if (paths.length > 0) throw new BadInputError('--optimade and --resume import from a provider: give no paths');
      const { runOptimadeImportCommand } = await import('./import-optimade.js');
      await withCliContext(opts, (ctx) => runOptimadeImportCommand(ctx, opts));
      return;
    }
    if (opts.filter !== undefined || opts.maxEntries !== undefined || opts.pageLimit !== undefined) {
      throw new BadInputError('--filter, --max-entries and --page-limit go with --optimade');
    }
    if (paths.length === 0) throw new BadInputError('give files or folders to import, or --optimade BASE_URL');
    await withCliContext(opts, async ({ db, logger, config }) => {
      const [{ importFiles, scanStructureFiles }, { migrateToLatest }, { default: cliProgress }] = await Promise.all([
        import('../services/ingest.js'),
        import('../store/migrate.js'),
        import('cli-progress'),
      ]);
      await migrateToLatest(db);
      const total = await scanStructureFiles(paths);
      logger.info({ paths, files: total.files, bytes: total.bytes }, 'import started');

      const useBar = opts.progress && process.stderr.isTTY === true;
      const bar = useBar
        ? new cliProgress.SingleBar(
            {
              stream: process.stderr,
              format: 'import [{bar}] {percentage}% | files {files}/{totalFiles} | ok {ok} | dup {duplicates} | failed {failed} | {rate}/s | eta {eta_formatted}',
              hideCursor: true,
            },
            cliProgress.Presets.shades_classic,
          )
        : undefined;
      const started = performance.now();
      const rate = (p: ImportProgress) => Math.round((p.ok + p.duplicates) / ((performance.now() - started) / 1000 || 1));
      bar?.start(Math.max(total.bytes, 1), 0, { files: 0, totalFiles: total.files, ok: 0, duplicates: 0, failed: 0, rate: 0 });
      let lastLog = 0;
      const onProgress = (p: ImportProgress) => {
        if (bar) {
          bar.update(p.bytes, { files: p.files, ok: p.ok, duplicates: p.duplicates, failed: p.failed, rate: rate(p) });
        } else if (performance.now() - lastLog > LOG_INTERVAL_MS) {
          lastLog = performance.now();
          const { pending: _pending, ...counts } = p;
          logger.info({ ...counts, totalFiles: total.files, totalBytes: total.bytes, perSecond: rate(p) }, 'import progress');
        }
      };

      let result;
      try {
        result = await importFiles(db, paths, {
          batchSize: opts.batchSize,
          maxSites: config.maxSites,
          maxTextBytes: config.maxTextBytes,
          source: opts.source ?? null,
          actor: opts.actor ?? null,
          allowUnusualDensity: opts.allowUnusualDensity === true,
          onProgress,
        });
      } finally {
        bar?.stop();
      }
      const seconds = (performance.now() - started) / 1000;
      for (const failure of result.failed.slice(0, MAX_LOGGED_FAILURES)) logger.warn(failure, 'file not imported');
      if (result.failed.length > MAX_LOGGED_FAILURES) {
        logger.warn({ more: result.failed.length - MAX_LOGGED_FAILURES }, 'more files not imported');
      }
      const summary = {
        files: result.files,
        ok: result.ok,
        duplicates: result.duplicates,
        failed: result.failed.length,
        seconds: Number(seconds.toFixed(2)),
        structuresPerSecond: Math.round((result.ok + result.duplicates) / (seconds || 1)),
      };
      logger.info(summary, 'import done');
      // New structures get embeddings from the active model (a trainer runs the job, queued in the last batch's transaction).
      if (result.embeddingQueued) logger.info('embed_materials job queued for the active model');
      process.stdout.write(`${JSON.stringify({ ...summary, failures: result.failed })}\n`);
      if (result.failed.length > 0) process.exitCode = 2;
    });
  });
}
