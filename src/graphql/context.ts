/**
 * The per-request GraphQL context: database handle, limits from config, a request-scoped logger,
 * the request id (echoed in logs and in masked errors) and a fresh set of DataLoaders.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Db } from '../store/database.js';
import { createLoaders, type Loaders } from './loaders.js';
import type { TrainingEvents } from './model/training-events.js';

export interface GraphQLContext {
  db: Db;
  config: Config;
  /** Child logger carrying `requestId`. */
  logger: Logger;
  requestId: string;
  /** Who is acting, stored as `createdBy` on labels and materials. There is no authentication yet. */
  actor: string;
  loaders: Loaders;
  /** NOTIFY wake-ups for Subscription.trainingProgress (absent: the subscription polls). */
  trainingEvents?: TrainingEvents;
}

export interface CreateContextOptions {
  db: Db;
  config: Config;
  logger: Logger;
  requestId?: string;
  actor?: string;
  trainingEvents?: TrainingEvents;
}

/** Default actor when a request does not name one (no authentication yet). */
export const DEFAULT_ACTOR = 'api';

export function createContext(opts: CreateContextOptions): GraphQLContext {
  const requestId = opts.requestId ?? randomUUID();
  return {
    db: opts.db,
    config: opts.config,
    logger: opts.logger.child({ requestId }),
    requestId,
    actor: opts.actor ?? DEFAULT_ACTOR,
    loaders: createLoaders(opts.db),
    trainingEvents: opts.trainingEvents,
  };
}
