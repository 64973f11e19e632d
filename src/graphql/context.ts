/**
 * The per-request GraphQL context: database handle, limits from config, a request-scoped logger,
 * the request id (echoed in logs and in masked errors), the principal (the API token the request
 * authenticated with, or anonymous) and a fresh set of DataLoaders.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { ANONYMOUS, type Principal } from '../services/tokens.js';
import { screeningEngine, type ScreeningEngine } from '../screening/engine.js';
import type { Db } from '../store/database.js';
import { createLoaders, type Loaders } from './loaders.js';
import type { TrainingEvents } from './model/training-events.js';
import type { CacheDependencies } from './cache/dependencies.js';

export interface GraphQLContext {
  db: Db;
  config: Config;
  /** Child logger carrying `requestId`. */
  logger: Logger;
  requestId: string;
  /** Who is acting: role checks (src/graphql/auth.ts) read it; its name is stored as `createdBy`. */
  principal: Principal;
  loaders: Loaders;
  /** The process's screening engine (label writes, background folds), built once by the server. */
  screening: ScreeningEngine;
  /** NOTIFY wake-ups for Subscription.trainingProgress (absent: the subscription polls). */
  trainingEvents?: TrainingEvents;
  /** Set by the response cache while it records what a cacheable operation reads (src/graphql/cache/). */
  cacheDependencies?: CacheDependencies;
}

export interface CreateContextOptions {
  db: Db;
  config: Config;
  logger: Logger;
  requestId?: string;
  /** Default: anonymous. */
  principal?: Principal;
  trainingEvents?: TrainingEvents;
  /** Default: the engine of `db` (screeningEngine). */
  screening?: ScreeningEngine;
}

export function createContext(opts: CreateContextOptions): GraphQLContext {
  const requestId = opts.requestId ?? randomUUID();
  return {
    db: opts.db,
    config: opts.config,
    logger: opts.logger.child({ requestId }),
    requestId,
    principal: opts.principal ?? ANONYMOUS,
    loaders: createLoaders(opts.db),
    trainingEvents: opts.trainingEvents,
    screening: opts.screening ?? screeningEngine(opts.db),
  };
}
