/**
 * The per-request GraphQL context: database handle, limits from config, a request-scoped logger,
 * the request id (echoed in logs and in masked errors), the principal (the API token the request
 * authenticated with, or anonymous) and a fresh set of DataLoaders.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { ANONYMOUS, type Principal } from '../services/tokens.js';
import type { Db } from '../store/database.js';
import { createLoaders, type Loaders } from './loaders.js';
import type { TrainingEvents } from './model/training-events.js';
import type { CacheDependencies } from './response-cache.js';

export interface GraphQLContext {
  db: Db;
  config: Config;
  /** Child logger carrying `requestId`. */
  logger: Logger;
  requestId: string;
  /** Who is acting: role checks (src/graphql/auth.ts) read it; its name is stored as `createdBy`. */
  principal: Principal;
  loaders: Loaders;
  /** NOTIFY wake-ups for Subscription.trainingProgress (absent: the subscription polls). */
  trainingEvents?: TrainingEvents;
  /** Set by the response cache while it records what a cacheable operation reads (src/graphql/response-cache.ts). */
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
  };
}
