/**
 * The one place that turns errors into what a GraphQL client sees.
 *
 * - A `DomainError` (thrown by services) keeps its message; its `code` becomes `extensions.code` and its
 *   `details` (e.g. `format`, `line` of a StructureParseError) are copied into `extensions`.
 * - Errors Apollo or graphql-js raise about the request itself (parse, validation, variable coercion —
 *   they carry their own `extensions.code`) pass through unchanged.
 * - The database being unreachable (down, restarting: src/store/unavailable.ts) is an outage, not a bug:
 *   `DATABASE_UNAVAILABLE` with a message saying so and the request id; the driver's error is logged.
 * - Anything else is a bug: the client gets a generic message, `INTERNAL_SERVER_ERROR` and the request
 *   id; the real error (SQL text, stack) goes only to the log, under the same request id.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import { ApolloServerErrorCode, unwrapResolverError } from '@apollo/server/errors';
import { HeaderMap } from '@apollo/server';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import type { Logger } from 'pino';
import { DomainError, type DomainErrorCode } from '../errors.js';
import { DATABASE_UNAVAILABLE_MESSAGE, isDatabaseUnavailable } from '../store/unavailable.js';
import type { GraphQLContext } from './context.js';

/** `extensions.code` for each domain code (a `Record`, so a new domain code fails to typecheck until mapped). */
export const GRAPHQL_CODE_BY_DOMAIN_CODE: Readonly<Record<DomainErrorCode, string>> = Object.freeze({
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  NOT_FOUND: 'NOT_FOUND',
  CONFLICT: 'CONFLICT',
  MODEL_NOT_READY: 'MODEL_NOT_READY',
  INVALID_JOB_STATE: 'INVALID_JOB_STATE',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
});

/** HTTP status of a request refused as a whole (before execution) with this domain code; others stay 200. */
const HTTP_STATUS_BY_DOMAIN_CODE: Readonly<Partial<Record<DomainErrorCode, number>>> = Object.freeze({
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
});

/**
 * A domain error refusing a whole request (thrown while building the context, or returned by
 * graphql-ws `onSubscribe`) as a GraphQLError; `formatGraphQLError` still maps its code, and over HTTP
 * it sets the status (401 with `WWW-Authenticate: Bearer`, 403).
 */
export function requestErrorOf(error: DomainError): GraphQLError {
  const status = HTTP_STATUS_BY_DOMAIN_CODE[error.code];
  const headers = new HeaderMap(status === 401 ? [['www-authenticate', 'Bearer']] : []);
  return new GraphQLError(error.message, { originalError: error, extensions: status ? { http: { status, headers } } : {} });
}

/**
 * graphql-ws `onError`: errors sent before execution (onSubscribe refusals, validation), formatted by
 * the same rules as over HTTP for domain errors; graphql-js' own request errors pass as they are.
 */
export function formatRequestErrors(errors: readonly GraphQLError[]): GraphQLFormattedError[] {
  return errors.map((error) => (findDomainError(error) || isUnavailableError(error) ? formatGraphQLError(error.toJSON(), error) : error.toJSON()));
}

/** Seconds a client is asked to wait (`Retry-After`) when the database is unreachable. */
const RETRY_AFTER_SECONDS = '5';

/**
 * The database being unreachable while a whole request is decided before execution (authenticating
 * its token): `DATABASE_UNAVAILABLE`, and over HTTP status 503 with `Retry-After`. (Errors during
 * execution keep HTTP 200, as every GraphQL error does.)
 */
export function unavailableRequestError(cause: Error): GraphQLError {
  return new GraphQLError(DATABASE_UNAVAILABLE_MESSAGE, {
    originalError: cause,
    extensions: { code: DATABASE_UNAVAILABLE_CODE, http: { status: 503, headers: new HeaderMap([['retry-after', RETRY_AFTER_SECONDS]]) } },
  });
}

export const INTERNAL_ERROR_MESSAGE = 'Internal server error';
/** `extensions.code` while the database cannot be reached; retrying later succeeds. */
export const DATABASE_UNAVAILABLE_CODE = 'DATABASE_UNAVAILABLE';
/** Masked codes whose response carries `extensions.requestId` (the log has the cause under it). */
const CODES_WITH_REQUEST_ID: ReadonlySet<unknown> = new Set([ApolloServerErrorCode.INTERNAL_SERVER_ERROR, DATABASE_UNAVAILABLE_CODE]);

/** How deep to follow `originalError` links looking for a DomainError (resolver → located error → cause). */
const MAX_UNWRAP_DEPTH = 4;

function findDomainError(error: unknown): DomainError | undefined {
  let current: unknown = unwrapResolverError(error);
  for (let depth = 0; depth < MAX_UNWRAP_DEPTH && current; depth++) {
    if (current instanceof DomainError) return current;
    if (current instanceof GraphQLError && current.originalError) current = current.originalError;
    else return undefined;
  }
  return undefined;
}

/**
 * True for errors about the request itself that Apollo/graphql-js already labelled (parse, validation,
 * variable coercion, persisted queries) and for GraphQLErrors a resolver threw on purpose with a code.
 */
function isLabelledRequestError(error: unknown): boolean {
  const unwrapped = unwrapResolverError(error);
  if (!(unwrapped instanceof GraphQLError)) return false;
  const code = unwrapped.extensions?.code;
  return typeof code === 'string' && code !== ApolloServerErrorCode.INTERNAL_SERVER_ERROR;
}

/** True when the client must not see this error's message (it is logged instead). */
export function isUnexpectedError(error: unknown): boolean {
  return findDomainError(error) === undefined && !isLabelledRequestError(error);
}

/** True when the error comes from the database being unreachable (not from a bug). */
export function isUnavailableError(error: unknown): boolean {
  return isDatabaseUnavailable(rootCause(unwrapResolverError(error)));
}

/** The innermost error, for logging. */
export function rootCause(error: unknown): unknown {
  let current: unknown = error;
  for (let depth = 0; depth < MAX_UNWRAP_DEPTH; depth++) {
    if (current instanceof GraphQLError && current.originalError) current = current.originalError;
    else break;
  }
  return current;
}

/** Apollo `formatError`: see the module comment for the rules. */
export function formatGraphQLError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const domainError = findDomainError(error);
  if (domainError) {
    const details = Object.fromEntries(
      Object.entries(domainError.details ?? {}).filter(([key, value]) => value !== undefined && key !== 'code'),
    );
    return {
      message: domainError.message,
      locations: formatted.locations,
      path: formatted.path,
      extensions: { ...details, code: GRAPHQL_CODE_BY_DOMAIN_CODE[domainError.code] },
    };
  }
  // Before the labelled errors: an unavailableRequestError carries its code (and HTTP status) too.
  if (isUnavailableError(error)) {
    return {
      message: DATABASE_UNAVAILABLE_MESSAGE,
      locations: formatted.locations,
      path: formatted.path,
      extensions: { code: DATABASE_UNAVAILABLE_CODE },
    };
  }
  if (isLabelledRequestError(error)) {
    // Never pass a stack trace through, whatever Apollo's settings.
    const { stacktrace: _stacktrace, ...extensions } = formatted.extensions ?? {};
    return { ...formatted, extensions };
  }
  return {
    message: INTERNAL_ERROR_MESSAGE,
    locations: formatted.locations,
    path: formatted.path,
    extensions: { code: ApolloServerErrorCode.INTERNAL_SERVER_ERROR },
  };
}

/**
 * Logs an unexpected error with its cause (SQL text, stack). `logger` is the request's child logger,
 * which carries the `requestId` the client sees in the masked error.
 */
export function logUnexpectedError(logger: Logger, error: unknown): void {
  const path = error instanceof GraphQLError ? error.path : undefined;
  if (isUnavailableError(error)) {
    // An outage: one line with the driver's message, no stack (every request fails the same way).
    const cause = rootCause(unwrapResolverError(error));
    logger.warn({ err: cause instanceof Error ? cause.message : String(cause), path }, 'database unavailable');
    return;
  }
  logger.error({ err: rootCause(error), path }, 'unexpected error while executing GraphQL operation');
}

/**
 * Apollo plugin completing `formatGraphQLError`, which has no access to the request: logs each unexpected
 * error with the request id, and adds `extensions.requestId` to each masked error in the response.
 */
export function errorReportingPlugin(): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors, contextValue }) {
          for (const error of errors) {
            if (isUnexpectedError(error)) logUnexpectedError(contextValue.logger, error);
          }
        },
        async willSendResponse({ response, contextValue }) {
          if (response.body.kind !== 'single') return;
          const errors = response.body.singleResult.errors;
          if (!errors?.length) return;
          response.body.singleResult.errors = errors.map((error) =>
            CODES_WITH_REQUEST_ID.has(error.extensions?.code)
              ? { ...error, extensions: { ...error.extensions, requestId: contextValue.requestId } }
              : error,
          );
        },
      };
    },
  };
}

/**
 * Formats the errors of an execution result outside Apollo (graphql-ws subscriptions) with the same
 * rules as the HTTP path: unexpected errors are logged and masked with the request id.
 */
export function formatExecutionErrors(
  errors: readonly GraphQLError[],
  context: Pick<GraphQLContext, 'logger' | 'requestId'>,
): GraphQLFormattedError[] {
  return errors.map((error) => {
    if (isUnexpectedError(error)) {
      logUnexpectedError(context.logger, error);
      const masked = formatGraphQLError(error.toJSON(), error);
      return { ...masked, extensions: { ...masked.extensions, requestId: context.requestId } };
    }
    return formatGraphQLError(error.toJSON(), error);
  });
}
