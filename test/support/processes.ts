/**
 * ionsieve commands as real OS processes (bin/ionsieve.js), for the fault and scale-out tests:
 * the JSON log lines of each child are collected and can be awaited, an HTTP GraphQL client for
 * `serve` children, and `stopAllIonsieve()` for an `after` hook so no child outlives its test.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/ionsieve.js', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** One pino line (src/logger.ts): `time` in ms since the epoch. */
export interface LogLine {
  level: number;
  time: number;
  msg: string;
  [key: string]: unknown;
}

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface IonsieveProcess {
  readonly name: string;
  readonly pid: number;
  /** Date.now() when it was spawned. */
  readonly startedAt: number;
  /** Parsed JSON log lines (stderr), in order. */
  readonly logs: LogLine[];
  /** Lines that were not JSON (a crash's stack trace, stdout). */
  readonly text: string[];
  /** Set once the process has exited. */
  readonly exit: ProcessExit | null;
  readonly exited: Promise<ProcessExit>;
  /** The first log line (already seen or still to come) matching `match`; rejects when the process exits first or after `timeoutMs`. */
  waitForLog(what: string, match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** Sends `signal` and waits for the exit (SIGKILL after `graceMs` if it is still running). */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<ProcessExit>;
  /** The last lines of output, for assertion messages. */
  tail(lines?: number): string;
  /** Resident memory in MiB (Linux /proc), or null. */
  rssMiB(): number | null;
}

const children = new Set<IonsieveProcess>();

export interface StartOptions {
  /** Added to (and overriding) the test's environment; `undefined` removes a variable. */
  env?: Record<string, string | undefined>;
}

/** Starts `node bin/ionsieve.js ...args` with LOG_LEVEL=info (JSON logs on stderr). */
export function startIonsieve(name: string, args: readonly string[], opts: StartOptions = {}): IonsieveProcess {
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'info' };
  for (const [key, value] of Object.entries(opts.env ?? {})) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  const startedAt = Date.now();
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: LogLine[] = [];
  const text: string[] = [];
  const waiters = new Set<() => void>();
  const onLine = (line: string) => {
    if (!line.trim()) return;
    try {
      const parsed = JSON.parse(line) as LogLine;
      if (parsed && typeof parsed === 'object' && typeof parsed.msg === 'string') logs.push(parsed);
      else text.push(line);
    } catch {
      text.push(line);
    }
    for (const wake of waiters) wake();
  };
  createInterface({ input: child.stderr! }).on('line', onLine);
  createInterface({ input: child.stdout! }).on('line', onLine);

  let exit: ProcessExit | null = null;
  const exited = new Promise<ProcessExit>((resolve) => {
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      children.delete(handle);
      for (const wake of waiters) wake();
      resolve(exit);
    });
  });

  const tail = (lines = 15) =>
    [...logs.slice(-lines).map((l) => JSON.stringify(l)), ...text.slice(-lines)].join('\n') || '(no output)';

  const handle: IonsieveProcess = {
    name,
    pid: child.pid!,
    startedAt,
    logs,
    text,
    get exit() {
      return exit;
    },
    exited,
    waitForLog(what, match, timeoutMs = 120_000) {
      return new Promise<LogLine>((resolve, reject) => {
        let timer: NodeJS.Timeout | undefined;
        const check = () => {
          const found = logs.find(match);
          if (found) finish(() => resolve(found));
          else if (exit) finish(() => reject(new Error(`${name} exited (${JSON.stringify(exit)}) before logging ${what}:\n${tail()}`)));
        };
        const finish = (settle: () => void) => {
          waiters.delete(check);
          clearTimeout(timer);
          settle();
        };
        timer = setTimeout(() => finish(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${name} to log ${what}:\n${tail()}`))), timeoutMs);
        waiters.add(check);
        check();
      });
    },
    async stop(signal = 'SIGTERM', graceMs = 15_000) {
      if (exit) return exit;
      child.kill(signal);
      const timer = setTimeout(() => {
        if (!exit) child.kill('SIGKILL');
      }, graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
    tail,
    rssMiB() {
      try {
        const kib = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1];
        return kib ? Math.round(Number(kib) / 1024) : null;
      } catch {
        return null;
      }
    },
  };
  children.add(handle);
  return handle;
}

/** Stops every child still running (SIGTERM, then SIGKILL); for `after` hooks. */
export async function stopAllIonsieve(): Promise<void> {
  await Promise.all([...children].map((c) => c.stop('SIGTERM', 10_000)));
}

/** `ionsieve serve` on a free port of 127.0.0.1; resolves with the process and its base URL once it listens. */
export async function startApi(name: string, databaseUrl: string, extraArgs: readonly string[] = [], opts: StartOptions = {}) {
  const proc = startIonsieve(name, ['serve', '--host', '127.0.0.1', '--port', '0', ...extraArgs], {
    ...opts,
    env: { DATABASE_URL: databaseUrl, ...opts.env },
  });
  const line = await proc.waitForLog("'ionsieve listening'", (l) => l.msg === 'ionsieve listening');
  return { proc, url: String(line.url), startupMs: line.time - proc.startedAt };
}

/** `ionsieve trainer` with a short lease and poll; resolves once its worker loop has started. */
export async function startTrainer(
  name: string,
  databaseUrl: string,
  opts: { leaseSeconds?: number; pollSeconds?: number } & StartOptions = {},
) {
  const proc = startIonsieve(
    name,
    ['trainer', '--lease-seconds', String(opts.leaseSeconds ?? 30), '--poll-seconds', String(opts.pollSeconds ?? 2)],
    { ...opts, env: { DATABASE_URL: databaseUrl, ...opts.env } },
  );
  const line = await proc.waitForLog("'worker started'", (l) => l.msg === 'worker started');
  return { proc, workerId: String(line.workerId), startupMs: line.time - proc.startedAt };
}

export interface HttpGraphQLResult<T> {
  data?: T | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

/** POSTs one operation to `${baseUrl}/graphql`. */
export async function postGraphQL<T = any>(
  baseUrl: string,
  query: string,
  variables?: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<HttpGraphQLResult<T>> {
  const response = await fetch(`${baseUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as HttpGraphQLResult<T>;
}

/** The data of a successful operation; throws with the errors otherwise. */
export async function graphQLData<T = any>(
  baseUrl: string,
  query: string,
  variables?: Record<string, unknown>,
  headers?: Record<string, string>,
): Promise<T> {
  const result = await postGraphQL<T>(baseUrl, query, variables, headers);
  if (result.errors?.length || !result.data) throw new Error(`GraphQL errors from ${baseUrl}: ${JSON.stringify(result.errors)}`);
  return result.data;
}

/**
 * A synchronous runner of the CLI on an embedded database under `work` (PGlite in work/pgdata,
 * DATABASE_URL cleared): for commands that finish (import, export, token), not servers.
 */
export function embeddedCli(work: string): (...args: string[]) => { status: number | null; stdout: string; stderr: string } {
  return (...args) => {
    const result = spawnSync(process.execPath, [BIN, ...args, '--data-dir', join(work, 'pgdata')], {
      cwd: work,
      encoding: 'utf8',
      env: { ...process.env, DATABASE_URL: '', LOG_LEVEL: 'info' },
      timeout: 180_000,
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  };
}
