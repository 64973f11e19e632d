/**
 * Runs the real `ionsieve` CLI (bin/ionsieve.js) as a child process and reads its JSON log lines
 * (pino, stderr), so a test can wait for "listening", signal it, and check how it ended.
 *
 *   const cli = spawnCli(['serve', '--port', '0', '--data-dir', dir]);
 *   const url = await cli.listening();
 *   cli.kill('SIGTERM');
 *   const { code } = await cli.exited;
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/ionsieve.js', import.meta.url));

export type LogLine = Record<string, unknown> & { msg?: string; level?: number };

export interface CliProcess {
  child: ChildProcess;
  /** Parsed JSON log lines so far (stderr). */
  readonly logs: LogLine[];
  /** stderr lines that are not JSON (stack traces), for failure messages. */
  readonly otherOutput: string[];
  /** Resolves with the first log line (past or future) matching `predicate`; rejects on timeout or exit. */
  waitForLog(what: string, predicate: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** Waits for the `ionsieve listening` line and returns the base URL. */
  listening(timeoutMs?: number): Promise<string>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal?: NodeJS.Signals): void;
  /** Everything it logged, for assertion messages. */
  transcript(): string;
}

export interface SpawnCliOptions {
  env?: Record<string, string>;
  cwd?: string;
}

export function spawnCli(args: string[], opts: SpawnCliOptions = {}): CliProcess {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: opts.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    // DATABASE_URL empty = PGlite unless the caller sets it; info level so lifecycle lines are logged.
    env: { ...process.env, DATABASE_URL: '', LOG_LEVEL: 'info', ...opts.env },
  });
  const logs: LogLine[] = [];
  const otherOutput: string[] = [];
  const waiters = new Set<() => void>();
  let hasExited = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      hasExited = true;
      resolve({ code, signal });
    });
  });
  // Waiters are re-checked once stderr has been read to the end, so a line logged just before exit is seen.
  child.stderr!.once('close', () => {
    for (const wake of waiters) wake();
  });
  createInterface({ input: child.stderr! }).on('line', (line) => {
    try {
      logs.push(JSON.parse(line) as LogLine);
    } catch {
      otherOutput.push(line);
    }
    for (const wake of waiters) wake();
  });
  child.stdout!.resume();
  const transcript = () => [...logs.map((l) => JSON.stringify(l)), ...otherOutput].join('\n');

  const waitForLog: CliProcess['waitForLog'] = (what, predicate, timeoutMs = 120_000) =>
    new Promise((resolve, reject) => {
      const check = () => {
        const found = logs.find(predicate);
        if (found) return done(() => resolve(found));
        if (hasExited && child.stderr!.closed) {
          done(() => reject(new Error(`process exited before logging ${what}:\n${transcript()}`)));
        }
      };
      const timer = setTimeout(() => done(() => reject(new Error(`timed out waiting for ${what}:\n${transcript()}`))), timeoutMs);
      const done = (settle: () => void) => {
        clearTimeout(timer);
        waiters.delete(check);
        settle();
      };
      waiters.add(check);
      check();
    });

  return {
    child,
    logs,
    otherOutput,
    waitForLog,
    async listening(timeoutMs = 180_000) {
      const line = await waitForLog('"ionsieve listening"', (l) => l.msg === 'ionsieve listening', timeoutMs);
      return String(line.url);
    },
    exited,
    kill(signal = 'SIGTERM') {
      if (!hasExited) child.kill(signal);
    },
    transcript,
  };
}
