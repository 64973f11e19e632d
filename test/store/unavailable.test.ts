/** isDatabaseUnavailable: the error shapes node-postgres and Node give when the server is not there, and what is not. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isDatabaseUnavailable } from '../../src/store/unavailable.js';

const withProps = (message: string, props: Record<string, unknown>) => Object.assign(new Error(message), props);

test('outage errors are recognised', () => {
  const outages = [
    withProps('connect ECONNREFUSED 127.0.0.1:5432', { code: 'ECONNREFUSED', syscall: 'connect' }),
    withProps('read ECONNRESET', { code: 'ECONNRESET', syscall: 'read' }),
    withProps('connect ENOENT /var/run/postgresql/.s.PGSQL.5432', { code: 'ENOENT', syscall: 'connect' }),
    withProps('getaddrinfo ENOTFOUND db', { code: 'ENOTFOUND', syscall: 'getaddrinfo' }),
    withProps('terminating connection due to administrator command', { code: '57P01' }),
    withProps('the database system is starting up', { code: '57P03' }),
    withProps('connection failure', { code: '08006' }),
    new Error('Connection terminated unexpectedly'),
    new Error('Connection terminated due to connection timeout'),
    new Error('timeout exceeded when trying to connect'),
    new Error('Client has encountered a connection error and is not queryable'),
    new AggregateError([withProps('connect ECONNREFUSED ::1:5432', { code: 'ECONNREFUSED', syscall: 'connect' })], 'connect failed'),
    new Error('query failed', { cause: withProps('read ECONNRESET', { code: 'ECONNRESET' }) }),
  ];
  for (const error of outages) assert.equal(isDatabaseUnavailable(error), true, error.message);
});

test('other failures are not', () => {
  const others: unknown[] = [
    withProps('syntax error at or near "selec"', { code: '42601' }),
    withProps('duplicate key value violates unique constraint', { code: '23505' }),
    withProps("ENOENT: no such file or directory, open 'x.cif'", { code: 'ENOENT', syscall: 'open' }),
    withProps('canceling statement due to statement timeout', { code: '57014' }),
    new TypeError("Cannot read properties of undefined (reading 'rows')"),
    'a string',
    undefined,
  ];
  for (const error of others) assert.equal(isDatabaseUnavailable(error), false, String((error as Error)?.message ?? error));
});
