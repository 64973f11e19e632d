/**
 * The `import_optimade` task: runs (or resumes at its stored cursor) an OPTIMADE import
 * (src/services/optimade-import.ts); its last page's transaction queues the embedding of the new
 * materials under the active model. Outgoing requests are checked against this worker's own allow-list
 * (IONSIEVE_OPTIMADE_HOSTS), whatever the API that queued the job allowed.
 */
import type { Task } from '../../src/jobs/worker.js';
import { runOptimadeImport, type ImportOptimadePayload, type OptimadeImportProgress } from '../../src/services/optimade-import.js';

export interface ImportOptimadeTaskOptions {
  allowedHosts: readonly string[];
  maxSites: number;
  maxTextBytes: number;
}

export function createImportOptimadeTask(opts: ImportOptimadeTaskOptions): Task<ImportOptimadePayload> {
  return async (job, { db, logger, signal, workerId }) => {
    const resumeFrom = (job.progress ?? null) as OptimadeImportProgress | null;
    if (resumeFrom) logger.info({ pages: resumeFrom.pages, nextUrl: resumeFrom.nextUrl }, 'OPTIMADE import resumed');
    const result = await runOptimadeImport(db, job.payload, resumeFrom, {
      jobId: job.id,
      workerId,
      allowedHosts: opts.allowedHosts,
      maxSites: opts.maxSites,
      maxTextBytes: opts.maxTextBytes,
      signal,
      onRetry: (info) => logger.warn(info, 'OPTIMADE request retried'),
      onEmbeddingQueued: () => logger.info('embed_materials job queued for the active model'),
    });
    const { skippedEntries: _list, ...counts } = result;
    logger.info(counts, 'OPTIMADE import done');
    return result;
  };
}
