/**
 * `ionsieve import --optimade BASE_URL [--filter F] [--max-entries N]`: an OPTIMADE import run in
 * this process, as a job row it holds (so its progress and cursor are stored page by page), with a
 * progress bar on a terminal and log lines otherwise. `--resume JOB` continues an interrupted one
 * at its stored cursor. The summary (with the skipped entries) is printed to stdout as JSON; exit
 * code 2 when entries were skipped, 1 when the import stopped.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { BadInputError } from '../errors.js';
import type { CliContext } from './context.js';

/** Lease of the job row while this process runs it; heartbeats renew it every third. */
const LEASE_MS = 60_000;
const LOG_INTERVAL_MS = 2000;

export interface OptimadeCliOptions {
  optimade?: string;
  filter?: string;
  maxEntries?: number;
  pageLimit?: number;
  resume?: string;
  actor?: string;
  allowUnusualDensity?: boolean;
  progress: boolean;
}

export async function runOptimadeImportCommand(ctx: CliContext, opts: OptimadeCliOptions): Promise<void> {
  const { db, logger, config } = ctx;
  const [service, queue, { migrateToLatest }, { default: cliProgress }] = await Promise.all([
    import('../services/optimade-import.js'),
    import('../jobs/queue.js'),
    import('../store/migrate.js'),
    import('cli-progress'),
  ]);
  await migrateToLatest(db);
  const workerId = `cli:${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  let job;
  if (opts.resume !== undefined) {
    if (opts.optimade !== undefined) throw new BadInputError('give --optimade for a new import or --resume for an interrupted one, not both');
    job = await service.claimOptimadeImport(db, opts.resume, workerId, LEASE_MS);
    if (!job) {
      const found = await queue.getJob(db, opts.resume);
      throw new BadInputError(
        found
          ? `job ${opts.resume} cannot be resumed: it is ${found.kind} ${found.status}${found.status === 'RUNNING' ? ' (held by a live worker)' : ''}`
          : `there is no job ${opts.resume}`,
      );
    }
    const stored = (job.progress ?? {}) as { pages?: number; received?: number; nextUrl?: string | null };
    logger.info({ jobId: job.id, pages: stored.pages ?? 0, received: stored.received ?? 0, nextUrl: stored.nextUrl }, 'OPTIMADE import resumed');
  } else {
    job = await service.startOptimadeImport(
      db,
      { baseUrl: opts.optimade!, filter: opts.filter ?? null, maxEntries: opts.maxEntries ?? null, pageLimit: opts.pageLimit ?? null, allowUnusualDensity: opts.allowUnusualDensity ?? false },
      { allowedHosts: config.optimadeHosts, actor: opts.actor ?? null, runHere: { workerId, leaseMs: LEASE_MS } },
    );
    logger.info({ jobId: job.id, url: service.firstPageUrl(job.payload) }, 'OPTIMADE import started');
  }
  const jobId = job.id;

  const controller = new AbortController();
  const beat = setInterval(() => {
    queue.heartbeatJob(db, jobId, workerId, LEASE_MS).then(
      (ok) => {
        if (!ok) controller.abort(new Error(`job ${jobId} was cancelled or taken over`));
      },
      (err: unknown) => logger.warn({ err }, 'heartbeat failed'),
    );
  }, LEASE_MS / 3);
  const interrupt = () => controller.abort(new Error('interrupted'));
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);

  const useBar = opts.progress && process.stderr.isTTY === true;
  const bar = useBar
    ? new cliProgress.SingleBar(
        {
          stream: process.stderr,
          format: 'optimade [{bar}] {value}/{total} entries | pages {pages} | new {imported} | dup {duplicates} | skipped {skipped} | {rate}/s',
          hideCursor: true,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  const started = performance.now();
  let barStarted = false;
  let lastLog = 0;
  const resumeFrom = (job.progress ?? null) as import('../services/optimade-import.js').OptimadeImportProgress | null;
  const startedAt = resumeFrom?.received ?? 0;
  const onProgress = (p: import('../services/optimade-import.js').OptimadeImportProgress) => {
    const rate = Math.round((p.received - startedAt) / ((performance.now() - started) / 1000 || 1));
    const total = Math.max(p.received, Math.min(p.dataReturned ?? Infinity, job.payload.maxEntries ?? Infinity, Number.MAX_SAFE_INTEGER));
    const values = { pages: p.pages, imported: p.imported, duplicates: p.duplicates, skipped: p.skipped, rate };
    if (bar) {
      if (!barStarted) bar.start(Number.isFinite(total) && total < Number.MAX_SAFE_INTEGER ? total : p.received, p.received, values);
      else bar.update(p.received, values);
      barStarted = true;
      if (Number.isFinite(total) && total < Number.MAX_SAFE_INTEGER) bar.setTotal(total);
    } else if (performance.now() - lastLog > LOG_INTERVAL_MS) {
      lastLog = performance.now();
      logger.info({ jobId, received: p.received, dataReturned: p.dataReturned, ...values, perSecond: rate }, 'OPTIMADE import progress');
    }
  };

  try {
    const result = await service.runOptimadeImport(db, job.payload, resumeFrom, {
      jobId,
      workerId,
      allowedHosts: config.optimadeHosts,
      maxSites: config.maxSites,
      maxTextBytes: config.maxTextBytes,
      signal: controller.signal,
      onProgress,
      onRetry: (info) => logger.warn(info, 'OPTIMADE request retried'),
      onEmbeddingQueued: () => logger.info('embed_materials job queued for the active model'),
    });
    clearInterval(beat);
    bar?.stop();
    await queue.completeJob(db, jobId, workerId, result);
    const seconds = (performance.now() - started) / 1000;
    const { skippedEntries, ...counts } = result;
    logger.info({ jobId, ...counts, seconds: Number(seconds.toFixed(2)) }, 'OPTIMADE import done');
    process.stdout.write(`${JSON.stringify({ jobId, ...counts, nextUrl: undefined, phase: undefined, seconds: Number(seconds.toFixed(2)), skippedEntries })}\n`);
    if (result.skipped > 0) process.exitCode = 2;
  } catch (error) {
    clearInterval(beat);
    bar?.stop();
    const message = error instanceof Error ? error.message : String(error);
    if (controller.signal.aborted) {
      // FAILED (no worker takes it up by itself); `--resume` continues it from its cursor.
      await queue.failJob(db, jobId, workerId, `${message}; resume with: ionsieve import --resume ${jobId}`, { retryable: false }).catch(() => null);
      logger.warn({ jobId }, `OPTIMADE import interrupted; resume with: ionsieve import --resume ${jobId}`);
      process.exitCode = 1;
      return;
    }
    const { isRetryable } = await import('../jobs/worker.js');
    const status = await queue.failJob(db, jobId, workerId, message, { retryable: isRetryable(error) }).catch(() => null);
    logger.error({ jobId, err: message, status }, `OPTIMADE import stopped; the stored pages are kept (ionsieve import --resume ${jobId} continues)`);
    throw error;
  } finally {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
  }
}
