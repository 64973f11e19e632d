/**
 * `ionsieve serve`: run the GraphQL server until SIGINT/SIGTERM; `ionsieve start` (the npm start):
 * migrate, seed if the database has not been seeded, make the first admin token on the embedded
 * database (src/cli/token.ts), then serve.
 */
import { constants as osConstants } from 'node:os';
import type { Command } from 'commander';
import { openCliContext, type CliContext, type DatabaseCommandOptions } from './context.js';
import { withDatabaseOptions } from './database-options.js';
import { refreshDerived, resolveSeedDir, runSeed } from './seed.js';

interface ServeOptions extends DatabaseCommandOptions {
  host?: string;
  port?: string;
  /** `start --no-worker` sets this false. */
  worker?: boolean;
}

/** How long a graceful shutdown may take before the process exits anyway. */
export const SHUTDOWN_TIMEOUT_MS = 30_000;

/**
 * Serves until SIGINT or SIGTERM, then shuts down gracefully: the listening socket closes at once
 * (new connections are refused), in-flight requests finish (idle keep-alive connections and
 * WebSockets are closed), and the embedded worker stops (a running job is left to its lease and
 * retried). The caller then closes the database. A second signal, or SHUTDOWN_TIMEOUT_MS, ends
 * the process at once with a non-zero status.
 */
async function serveUntilSignal(ctx: CliContext, opts: { worker?: boolean } = {}): Promise<void> {
  // Imported lazily: the GraphQL stack is heavy and other commands do not need it.
  const { startServer } = await import('../server.js');
  const server = await startServer({ db: ctx.db, config: ctx.config, logger: ctx.logger, listen: ctx.listen });
  // One in-process training worker (embedded default); `--no-worker` leaves jobs to `ionsieve trainer`.
  const worker = opts.worker
    ? (await import('../../trainer/worker.js')).startTrainerWorker({
        db: ctx.db,
        logger: ctx.logger,
        listen: ctx.listen,
        // Fitting runs in a child process at a lower priority: this process keeps serving (and the database).
        train: { isolation: ctx.config.trainerIsolation, nice: ctx.config.trainerNice },
        optimade: { allowedHosts: ctx.config.optimadeHosts, maxSites: ctx.config.maxSites, maxTextBytes: ctx.config.maxTextBytes },
      })
    : undefined;
  ctx.logger.info({ url: server.url, dialect: ctx.dialect }, 'ionsieve listening');
  const exitNow = (reason: string, extra: Record<string, unknown>, code: number) => {
    ctx.logger.warn(extra, reason);
    process.exit(code);
  };
  const forced = (again: NodeJS.Signals) =>
    exitNow('second signal: exiting without finishing the shutdown', { signal: again }, 128 + (osConstants.signals[again] ?? 0));
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    const first = (received: NodeJS.Signals) => {
      // Swapped without a gap: with no listener left, Node restores the default action (die at once).
      // Left installed: the process ends right after the shutdown, and a signal handle keeps nothing alive.
      process.on('SIGINT', forced);
      process.on('SIGTERM', forced);
      process.off('SIGINT', first);
      process.off('SIGTERM', first);
      resolve(received);
    };
    process.on('SIGINT', first);
    process.on('SIGTERM', first);
  });
  ctx.logger.info({ signal }, 'shutting down: finishing in-flight requests (a second signal exits at once)');
  const timer = setTimeout(() => exitNow('graceful shutdown timed out; exiting', { timeoutMs: SHUTDOWN_TIMEOUT_MS }, 1), SHUTDOWN_TIMEOUT_MS);
  timer.unref();
  await Promise.all([server.close(), worker?.stop()]);
  // Background folds waiting to gather more events run now, before the database closes.
  await (await import('../services/screening.js')).screeningFoldsIdle(ctx.db);
}

function withServerOptions(command: Command): Command {
  return withDatabaseOptions(command)
    .option('--host <host>', 'listen address (default: $HOST or 127.0.0.1)')
    .option('--port <port>', 'listen port, 0 = any free port (default: $PORT or 4000)');
}

async function openServeContext(opts: ServeOptions): Promise<CliContext> {
  // Passed into the config as it is read (never written to process.env).
  return openCliContext(opts, {
    ...(opts.host !== undefined ? { HOST: opts.host } : {}),
    ...(opts.port !== undefined ? { PORT: opts.port } : {}),
  });
}

export function registerServeCommands(program: Command): void {
  withServerOptions(program.command('serve').description('serve the GraphQL API (database must be migrated)')).action(
    async (opts: ServeOptions) => {
      const ctx = await openServeContext(opts);
      try {
        await serveUntilSignal(ctx);
      } finally {
        await ctx.close();
      }
      ctx.logger.info('ionsieve stopped: database closed');
    },
  );

  withServerOptions(
    program
      .command('start')
      .description('migrate, seed the shipped datasets (and default model) if not yet seeded, and serve with a training worker')
      .option('--no-worker', 'do not run a training worker in this process (run `ionsieve trainer` instead)'),
  ).action(async (opts: ServeOptions) => {
    const ctx = await openServeContext(opts);
    try {
      const [{ isSeeded }, { migrateToLatest }, { withStartupLock }] = await Promise.all([
        import('../services/seed.js'),
        import('../store/migrate.js'),
        import('../store/startup-lock.js'),
      ]);
      // Replicas started at once take turns: the first migrates and seeds, the others find it done.
      await withStartupLock(
        ctx.config.sessionDatabaseUrl,
        async () => {
          await migrateToLatest(ctx.db);
          await refreshDerived(ctx);
          if (await isSeeded(ctx.db)) {
            ctx.logger.info('database already seeded');
            // Cheap when installed; installs the shipped model into a database seeded before it existed.
            const { installShippedModel } = await import('../services/default-model.js');
            await installShippedModel(ctx, resolveSeedDir(ctx.config.seedDir));
          } else await runSeed(ctx, ctx.config.seedDir);
          // Writes need a token: the embedded default makes the first admin token (README "Access control").
          const { ensureLocalAdminToken } = await import('./token.js');
          await ensureLocalAdminToken(ctx);
        },
        () => ctx.logger.info('another process is migrating or seeding this database; waiting for it'),
      );
      await serveUntilSignal(ctx, { worker: opts.worker !== false });
    } finally {
      await ctx.close();
    }
    ctx.logger.info('ionsieve stopped: database closed');
  });
}
