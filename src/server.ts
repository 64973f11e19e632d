/**
 * The HTTP server: Express 5 with the GraphQL endpoint (Apollo Server 5) at `/graphql`, a graphql-ws
 * WebSocket server on the same path for subscriptions, `/healthz` (process up) and `/readyz` (database
 * answers), JSON request logs carrying a request id, and a graceful `close()`.
 *
 * `createApolloServer` + `createContext` run operations without HTTP (tests: `server.executeOperation`).
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import { expressMiddleware } from '@as-integrations/express5';
import proxyAddr from 'proxy-addr';
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import { GraphQLError, type ExecutionArgs, type GraphQLSchema } from 'graphql';
import type { Context, SubscribePayload } from 'graphql-ws';
import { useServer, type Extra } from 'graphql-ws/use/ws';
import type { Logger } from 'pino';
import { WebSocketServer } from 'ws';
import { loadConfig, type Config, type Limits } from './config.js';
import { authenticateOperation } from './graphql/auth.js';
import { buildIonsieveSchema } from './graphql/build-schema.js';
import { createContext, type GraphQLContext } from './graphql/context.js';
import { screeningEngine, type ScreeningEngine } from './screening/engine.js';
import { errorReportingPlugin, formatExecutionErrors, formatGraphQLError, formatRequestErrors } from './graphql/format-error.js';
import { apolloLimitOptions, checkOperation } from './graphql/limits.js';
import { CACHE_STATUS_HEADER, ResponseCache, responseCachePlugin } from './graphql/cache/index.js';
import { pruneChangeLog } from './store/change-feed.js';
import { createTrainingEvents } from './graphql/model/training-events.js';
import type { Principal } from './services/tokens.js';
import type { Db } from './store/database.js';
import type { Listen } from './store/listen.js';
import { chargeFailedAuthentication, consumeForClient, createRateLimiter, rateLimitedError, rateLimitMiddleware, type RateLimiter } from './rate-limit.js';
import { mountDashboard } from './web-static.js';

export { createContext, type GraphQLContext } from './graphql/context.js';

export const GRAPHQL_PATH = '/graphql';
export const REQUEST_ID_HEADER = 'x-request-id';
/** An incoming request id is reused only when it looks like one (it ends up in logs and responses). */
const ACCEPTABLE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export interface CreateApolloServerOptions {
  logger: Logger;
  /** Defaults to `buildIonsieveSchema()`. */
  schema?: GraphQLSchema;
  plugins?: ApolloServerPlugin<GraphQLContext>[];
  /** Operation limits (src/graphql/limits.ts); defaults to the configuration defaults. */
  limits?: Limits;
  /** Serves and stores cacheable queries (src/graphql/cache/response-cache.ts); none by default. */
  responseCache?: ResponseCache;
}

/** An Apollo server with the project's error formatting; not started (tests may call `executeOperation` directly). */
export async function createApolloServer(opts: CreateApolloServerOptions): Promise<ApolloServer<GraphQLContext>> {
  const schema = opts.schema ?? (await buildIonsieveSchema());
  const limits = apolloLimitOptions(opts.limits ?? loadConfig({}).limits);
  return new ApolloServer<GraphQLContext>({
    schema,
    ...limits,
    formatError: formatGraphQLError,
    includeStacktraceInErrorResponses: false,
    // Apollo would stop itself on SIGINT/SIGTERM and then re-raise the signal, killing the process
    // before the worker and the database are closed; the CLI handles signals (src/cli/serve.ts).
    stopOnTerminationSignals: false,
    // Apollo logs through pino too, so startup and plugin messages land in the same JSON stream.
    logger: opts.logger,
    plugins: [
      // No cache hints are used, and the default cache-control plugin runs a hook on every field.
      ApolloServerPluginCacheControlDisabled(),
      errorReportingPlugin(),
      // The local landing page links to Apollo Sandbox (loaded by the browser from Apollo's CDN).
      ApolloServerPluginLandingPageLocalDefault({ embed: false, footer: false }),
      ...(limits.plugins as ApolloServerPlugin<GraphQLContext>[]),
      ...(opts.responseCache?.enabled ? [responseCachePlugin(opts.responseCache)] : []),
      ...(opts.plugins ?? []),
    ],
  });
}

export interface StartServerOptions {
  db: Db;
  config: Config;
  logger: Logger;
  schema?: GraphQLSchema;
  /** Overrides `config.limits.maxBodyBytes`. */
  bodyLimitBytes?: number;
  /** LISTEN/NOTIFY (OpenedDatabase.listen): wakes trainingProgress subscriptions; without it they poll. */
  listen?: Listen;
  /** The screening engine (default: the one of `db`, made on first use): label group commits and background folds. */
  screening?: ScreeningEngine;
}

export interface RunningServer {
  /** Base URL, e.g. `http://127.0.0.1:4000`; GraphQL is at `${url}/graphql`. */
  url: string;
  graphqlUrl: string;
  port: number;
  httpServer: Server;
  /** This process's response cache and shared reads (its `stats()` are logged once a minute). */
  responseCache: ResponseCache;
  /** Stops accepting connections, lets in-flight requests finish, closes WebSockets. Idempotent. */
  close(): Promise<void>;
}

/** Starts listening on `config.host:config.port` (port 0 picks a free port). The caller owns `db`. */
export async function startServer(opts: StartServerOptions): Promise<RunningServer> {
  const { db, config, logger } = opts;
  const schema = opts.schema ?? (await buildIonsieveSchema());
  const trainingEvents = opts.listen ? await createTrainingEvents({ listen: opts.listen, logger }) : undefined;
  const rateLimiter = createRateLimiter(config.limits);
  // Built once: background folds and label group commits of this process live in it.
  const screening = opts.screening ?? screeningEngine(db);
  const app = express();
  app.disable('x-powered-by');
  // Behind a load balancer, the client's IP (rate limits, logs) comes from X-Forwarded-For set by
  // the proxies trusted here (README "Limits"); by default no proxy is trusted.
  app.set('trust proxy', config.trustProxy);
  const clientIp = (request: IncomingMessage) => proxyAddr(request, app.get('trust proxy fn'));
  const httpServer = createServer(app);

  const wsServer = new WebSocketServer({ server: httpServer, path: GRAPHQL_PATH });
  const wsHandle = useServer<Record<string, unknown>, { requestId?: string; principals?: Map<string, Principal> }>(
    {
      schema,
      // The HTTP limits, per operation: rate, tokens, validation (depth, aliases, introspection), cost;
      // then authentication with `connectionParams.authorization` (each operation, so a revoked token
      // stops at its next one). A refusal is the operation's error; the connection stays open.
      onSubscribe: async (ctx, id, payload) => {
        const guarded = await guardWsOperation(ctx, payload, schema, config.limits, rateLimiter, clientIp(ctx.extra.request));
        if (Array.isArray(guarded)) return guarded;
        try {
          const principal = await authenticateOperation(db, config, ctx.connectionParams?.authorization, { allowBare: true });
          (ctx.extra.principals ??= new Map()).set(id, principal);
        } catch (error) {
          if (error instanceof GraphQLError) {
            await chargeFailedAuthentication(rateLimiter, clientIp(ctx.extra.request));
            return [error];
          }
          throw error;
        }
        return guarded;
      },
      onError: (ctx, id, _payload, errors) => {
        ctx.extra.principals?.delete(id);
        return formatRequestErrors(errors);
      },
      context: (ctx, id) => {
        // One request id per WebSocket connection: every event of a subscription logs under it.
        ctx.extra.requestId ??= randomUUID();
        const principal = ctx.extra.principals?.get(id);
        ctx.extra.principals?.delete(id);
        return createContext({ db, config, logger, requestId: ctx.extra.requestId, trainingEvents, principal, screening });
      },
      onNext: (_ctx, _id, _payload, args, result) => {
        if (!result.errors?.length) return;
        return { ...result, errors: formatExecutionErrors(result.errors, args.contextValue as GraphQLContext) };
      },
    },
    wsServer,
  );

  const responseCache = new ResponseCache(db, { ...config.responseCache, listen: opts.listen });
  await responseCache.start();
  // Any API process may prune the change feed; readers idle for longer than a minute start afresh.
  const pruneTimer = responseCache.enabled
    ? setInterval(() => {
        void pruneChangeLogQuietly(db, logger);
        logger.info({ responseCache: responseCache.stats() }, 'response cache');
      }, CHANGE_LOG_PRUNE_INTERVAL_MS)
    : undefined;
  pruneTimer?.unref();
  const apollo = await createApolloServer({
    logger,
    schema,
    limits: config.limits,
    responseCache,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      {
        async serverWillStart() {
          return {
            async drainServer() {
              await wsHandle.dispose();
              await trainingEvents?.close();
              await responseCache.close();
            },
          };
        },
      },
    ],
  });
  await apollo.start();

  app.use(requestLogging(logger));
  app.get('/healthz', (_req, res) => {
    res.status(200).json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    try {
      await db.selectNoFrom((eb) => eb.lit(1).as('one')).execute();
      res.status(200).json({ status: 'ready' });
    } catch (error) {
      // Probes repeat every few seconds during an outage: the driver's message, not a stack each time.
      logger.warn({ err: error instanceof Error ? error.message : String(error), requestId: res.locals.requestId }, 'readiness check failed: database unreachable');
      res.status(503).json({ status: 'unavailable', reason: 'database unreachable' });
    }
  });
  app.use(
    GRAPHQL_PATH,
    // Before the body is read: a refused client costs no parsing.
    ...(rateLimiter ? [rateLimitMiddleware(rateLimiter)] : []),
    express.json({ limit: opts.bodyLimitBytes ?? config.limits.maxBodyBytes }),
    expressMiddleware(apollo, {
      context: async ({ req, res }) => {
        let principal;
        try {
          principal = await authenticateOperation(db, config, req.get('authorization'));
        } catch (error) {
          if (error instanceof GraphQLError) await chargeFailedAuthentication(rateLimiter, req.ip);
          throw error;
        }
        return createContext({ db, config, logger, requestId: res.locals.requestId as string, principal, screening });
      },
    }),
  );
  // The dashboard's static build (web/dist) at `/`, after the API routes so no file can shadow them.
  mountDashboard(app);
  app.use(jsonErrorHandler(logger));

  await new Promise<void>((resolveListen, rejectListen) => {
    httpServer.once('error', rejectListen);
    httpServer.listen(config.port, config.host, () => {
      httpServer.off('error', rejectListen);
      resolveListen();
    });
  });
  const address = httpServer.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  logger.info({ url: `${url}${GRAPHQL_PATH}` }, 'GraphQL server listening');

  let closing: Promise<void> | undefined;
  return {
    url,
    graphqlUrl: `${url}${GRAPHQL_PATH}`,
    port: address.port,
    httpServer,
    responseCache,
    close() {
      // apollo.stop() runs the drain hooks: closes the HTTP server (waiting for in-flight requests)
      // and disposes the WebSocket server.
      if (pruneTimer) clearInterval(pruneTimer);
      closing ??= apollo.stop().then(() => logger.info('GraphQL server closed'));
      return closing;
    },
  };
}

/** graphql-ws `onSubscribe`: the operation's execution arguments, or the errors that refuse it. */
async function guardWsOperation(
  ctx: Context<Record<string, unknown>, Extra & { requestId?: string }>,
  payload: SubscribePayload,
  schema: GraphQLSchema,
  limits: Limits,
  rateLimiter: RateLimiter | undefined,
  ip: string | undefined,
): Promise<ExecutionArgs | GraphQLError[]> {
  ctx.extra.requestId ??= randomUUID();
  if (rateLimiter) {
    const auth = ctx.connectionParams?.authorization ?? ctx.connectionParams?.Authorization ?? ctx.extra.request.headers.authorization;
    const decision = await consumeForClient(rateLimiter, typeof auth === 'string' ? auth : undefined, ip);
    if (!decision.allowed) {
      const refused = rateLimitedError(ctx.extra.requestId, decision.retryAfterSeconds);
      return [new GraphQLError(refused.message, { extensions: refused.extensions })];
    }
  }
  const checked = checkOperation(limits, schema, payload);
  if ('errors' in checked) return checked.errors;
  return { schema, document: checked.document, operationName: payload.operationName, variableValues: payload.variables };
}

/** Assigns a request id (reusing a sane incoming `x-request-id`) and logs one line per finished request. */
/** How often an API process deletes change-feed rows older than CHANGE_LOG_RETENTION_S (and logs the cache's counters). */
const CHANGE_LOG_PRUNE_INTERVAL_MS = 60_000;
const CHANGE_LOG_RETENTION_S = 15 * 60;

async function pruneChangeLogQuietly(db: Db, logger: Logger): Promise<void> {
  try {
    const deleted = await pruneChangeLog(db, CHANGE_LOG_RETENTION_S);
    if (deleted > 0) logger.debug({ deleted }, 'change feed pruned');
  } catch (error) {
    // The database is away; the next round tries again.
    logger.debug({ err: error instanceof Error ? error.message : String(error) }, 'change feed prune failed');
  }
}

function requestLogging(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const incoming = req.get(REQUEST_ID_HEADER);
    const requestId = incoming && ACCEPTABLE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    res.locals.requestId = requestId;
    res.setHeader(REQUEST_ID_HEADER, requestId);
    const startedAt = process.hrtime.bigint();
    res.on('finish', () => {
      const durationMs = Number(process.hrtime.bigint() - startedAt) / 1e6;
      const cache = res.getHeader(CACHE_STATUS_HEADER);
      const entry = { requestId, method: req.method, path: req.path, status: res.statusCode, durationMs, ...(cache ? { cache } : {}) };
      // Probes hit these every few seconds; keep them out of the info stream.
      if (req.path === '/healthz' || req.path === '/readyz') logger.debug(entry, 'request');
      else logger.info(entry, 'request');
    });
    next();
  };
}

/**
 * Errors raised before Apollo sees the request (body too large, malformed JSON) or by a bug in a
 * handler, answered in GraphQL's error shape; never Express's HTML page with a stack trace.
 */
function jsonErrorHandler(logger: Logger): ErrorRequestHandler {
  return (error, _req, res, next) => {
    if (res.headersSent) return next(error);
    const requestId = res.locals.requestId as string | undefined;
    const status = typeof error?.status === 'number' && error.status >= 400 && error.status < 500 ? error.status : 500;
    if (status === 500) {
      logger.error({ err: error, requestId }, 'unhandled error in HTTP handler');
      res.status(500).json({ errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR', requestId } }] });
      return;
    }
    const message =
      error.type === 'entity.too.large'
        ? `request body larger than the limit of ${error.limit} bytes`
        : error.type === 'entity.parse.failed'
          ? 'request body is not valid JSON'
          : String(error.message ?? 'bad request');
    res.status(status).json({ errors: [{ message, extensions: { code: 'BAD_REQUEST', requestId } }] });
  };
}
