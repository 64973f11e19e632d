/** The error mapper on its own: every domain code, details in extensions, masking of everything else. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GraphQLError } from 'graphql';
import { ConflictError, InvalidJobStateError, ModelNotReadyError, NotFoundError, StructureParseError } from '../../src/errors.js';
import { formatGraphQLError, GRAPHQL_CODE_BY_DOMAIN_CODE, isUnexpectedError } from '../../src/graphql/format-error.js';

/** What graphql-js hands Apollo when a resolver at `path` throws `cause`. */
function resolverError(cause: Error): GraphQLError {
  return new GraphQLError(cause.message, { path: ['someField'], originalError: cause });
}

function format(error: GraphQLError) {
  return formatGraphQLError({ message: error.message, path: error.path, extensions: { code: 'INTERNAL_SERVER_ERROR' } }, error);
}

test('domain errors keep their message; code and details go to extensions', () => {
  const cases: [Error, string, Record<string, unknown>][] = [
    [new StructureParseError('CIF', 'unknown element "Xx"', 17), 'BAD_USER_INPUT', { format: 'CIF', line: 17 }],
    [new NotFoundError('material', '42'), 'NOT_FOUND', { what: 'material', id: '42' }],
    [new ConflictError('label 7 is already retracted', { labelId: '7' }), 'CONFLICT', { labelId: '7' }],
    [new ModelNotReadyError('3', 'TRAINING'), 'MODEL_NOT_READY', { modelId: '3', status: 'TRAINING' }],
    [new InvalidJobStateError('job 5 is done'), 'INVALID_JOB_STATE', {}],
  ];
  for (const [cause, code, details] of cases) {
    const error = resolverError(cause);
    assert.equal(isUnexpectedError(error), false);
    const formatted = format(error);
    assert.equal(formatted.message, cause.message);
    assert.deepEqual(formatted.path, ['someField']);
    assert.deepEqual(formatted.extensions, { ...details, code });
  }
});

test('anything else is masked; labelled request errors pass through', () => {
  const crash = format(resolverError(new TypeError("Cannot read properties of undefined (reading 'rows')")));
  assert.deepEqual(crash, { message: 'Internal server error', locations: undefined, path: ['someField'], extensions: { code: 'INTERNAL_SERVER_ERROR' } });

  const validation = new GraphQLError('Cannot query field "nope" on type "Query".', { extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } });
  assert.equal(isUnexpectedError(validation), false);
  const passed = formatGraphQLError(
    { message: validation.message, extensions: { code: 'GRAPHQL_VALIDATION_FAILED', stacktrace: ['at x'] } },
    validation,
  );
  assert.deepEqual(passed, { message: validation.message, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } });

  // A non-null violation raised by graphql-js during execution has a path but no code: a server bug.
  const nonNull = new GraphQLError('Cannot return null for non-nullable field Label.class.', { path: ['labels', 'nodes', 0, 'class'] });
  assert.equal(isUnexpectedError(nonNull), true);
  assert.equal(format(nonNull).message, 'Internal server error');
});

test('the database being unreachable is DATABASE_UNAVAILABLE with a message saying so, not a masked bug', () => {
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED', syscall: 'connect' });
  const formatted = format(resolverError(refused));
  assert.deepEqual(formatted, {
    message: 'The database is unreachable. Try again shortly.',
    locations: undefined,
    path: ['someField'],
    extensions: { code: 'DATABASE_UNAVAILABLE' },
  });
  // SQL errors are still bugs (masked).
  const syntax = Object.assign(new Error('syntax error at or near "selec"'), { code: '42601' });
  assert.equal(format(resolverError(syntax)).extensions?.code, 'INTERNAL_SERVER_ERROR');
});
