/**
 * Telling "the database is not there" (server down, restarting, unreachable) from every other
 * failure. The API answers these with `DATABASE_UNAVAILABLE` instead of a masked internal error,
 * and long-lived loops (subscriptions, workers) wait and retry instead of giving up.
 */

/** SQLSTATEs PostgreSQL sends when it is going away or not yet accepting connections. */
const UNAVAILABLE_SQLSTATES = new Set([
  '57P01', // admin_shutdown: terminating connection due to administrator command
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: the database system is starting up / shutting down
]);

/** Socket errors on the way to the server. */
const NETWORK_ERROR_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

/** node-postgres and pg-pool raise these as plain Errors, without a code. */
const DRIVER_MESSAGES = [
  /^Connection terminated/, // unexpectedly / due to connection timeout
  /^timeout exceeded when trying to connect$/,
  /^Client has encountered a connection error and is not queryable$/,
];

/** How deep to follow `cause` / `errors` links (kysely and Node wrap errors rarely and shallowly). */
const MAX_DEPTH = 4;

export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (!(error instanceof Error) || depth > MAX_DEPTH) return false;
  const { code, syscall } = error as Error & { code?: unknown; syscall?: unknown };
  if (typeof code === 'string') {
    // Class 08: connection exception (08000, 08003 connection_does_not_exist, 08006 connection_failure, …).
    if (/^08[0-9A-Z]{3}$/.test(code) || UNAVAILABLE_SQLSTATES.has(code)) return true;
    if (NETWORK_ERROR_CODES.has(code)) return true;
    // A unix socket that is missing (server down) or a host that does not resolve, while connecting.
    if (syscall === 'connect' || syscall === 'getaddrinfo') return code === 'ENOENT' || code === 'ENOTFOUND';
  }
  if (DRIVER_MESSAGES.some((pattern) => pattern.test(error.message))) return true;
  // Node reports a refused dual-stack connect as an AggregateError of the per-address errors.
  if (error instanceof AggregateError && error.errors.some((e) => isDatabaseUnavailable(e, depth + 1))) return true;
  return isDatabaseUnavailable(error.cause, depth + 1);
}

/**
 * What a client is told (the real error goes to the log). It does not claim that nothing was
 * written: a connection lost during COMMIT leaves that open (addMaterials is safe to retry: a
 * stored structure is returned, not duplicated).
 */
export const DATABASE_UNAVAILABLE_MESSAGE = 'The database is unreachable. Try again shortly.';
