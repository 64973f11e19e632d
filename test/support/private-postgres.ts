/**
 * A private PostgreSQL cluster for fault tests: its own data directory in a temp folder, its own port
 * and socket directory, so a test can stop and start it (an outage) without touching the machine's
 * shared server that other tests use. Uses the Debian/Ubuntu binaries in /usr/lib/postgresql/<v>/bin
 * (pgvector must be installed for that version: scripts/install-pgvector.sh). initdb refuses to run
 * as root, so as root every server command runs as the `postgres` user (runuser).
 *
 *   const reason = privatePostgresSkipReason();           // undefined when it can run here
 *   const cluster = await startPrivatePostgres();
 *   const url = await cluster.createDatabase('app');      // with the vector extension
 *   await cluster.stop('fast'); … await cluster.start();
 *   await cluster.destroy();
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, chownSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);
const PG_ROOT = '/usr/lib/postgresql';
/** The version CI and docker use; another installed version is taken when 15 is absent. */
const PREFERRED_VERSION = '15';

function binDir(): string | undefined {
  if (!existsSync(PG_ROOT)) return undefined;
  const versions = readdirSync(PG_ROOT).filter((v) => existsSync(join(PG_ROOT, v, 'bin', 'initdb')));
  const version = versions.includes(PREFERRED_VERSION) ? PREFERRED_VERSION : versions.sort((a, b) => Number(b) - Number(a))[0];
  return version ? join(PG_ROOT, version, 'bin') : undefined;
}

const isRoot = () => process.getuid?.() === 0;

/** Why a private cluster cannot run on this machine, or undefined when it can. */
export function privatePostgresSkipReason(): string | undefined {
  const bin = binDir();
  if (!bin) return `no PostgreSQL server binaries under ${PG_ROOT}/<version>/bin (install postgresql-15)`;
  const shareDir = execFileSync(join(bin, 'pg_config'), ['--sharedir'], { encoding: 'utf8' }).trim();
  if (!existsSync(join(shareDir, 'extension', 'vector.control'))) {
    return `pgvector is not installed for ${bin} (run scripts/install-pgvector.sh)`;
  }
  if (isRoot() && spawnSync('id', ['-u', 'postgres']).status !== 0) return 'running as root but there is no `postgres` user to run initdb as';
  return undefined;
}

/** A free TCP port on 127.0.0.1 (the kernel picks it; a tiny race with other processes is possible). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface PrivatePostgres {
  readonly port: number;
  /** The folder holding the data directory, the socket and the server log. */
  readonly dir: string;
  /** `postgres://postgres@127.0.0.1:<port>/<database>`. */
  url(database?: string): string;
  /** Creates a database with the vector extension; returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** Stops the server (`pg_ctl stop -m <mode>`), waiting until it is down. */
  stop(mode?: 'smart' | 'fast' | 'immediate'): Promise<void>;
  /** Starts it again on the same port, waiting until it accepts connections. */
  start(): Promise<void>;
  readonly running: boolean;
  /** The server log so far (for assertion messages). */
  log(): string;
  /** Stops the server at once and deletes its folder. Idempotent. */
  destroy(): Promise<void>;
}

export interface StartPrivatePostgresOptions {
  /** Extra postgresql.conf lines. */
  settings?: Record<string, string | number>;
}

export async function startPrivatePostgres(opts: StartPrivatePostgresOptions = {}): Promise<PrivatePostgres> {
  const reason = privatePostgresSkipReason();
  if (reason) throw new Error(reason);
  const bin = binDir()!;
  const dir = mkdtempSync(join(tmpdir(), 'ionsieve-pg-'));
  const dataDir = join(dir, 'data');
  const logFile = join(dir, 'server.log');
  const port = await freePort();
  const asServerUser = (command: string, args: string[]): [string, string[]] =>
    isRoot() ? ['runuser', ['-u', 'postgres', '--', join(bin, command), ...args]] : [join(bin, command), args];
  if (isRoot()) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
  }
  const pgCtl = async (args: string[], timeoutMs = 120_000) => {
    const [file, argv] = asServerUser('pg_ctl', ['-D', dataDir, ...args]);
    await run(file, argv, { timeout: timeoutMs });
  };

  const [initdb, initdbArgs] = asServerUser('initdb', ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
  await run(initdb, initdbArgs, { timeout: 180_000 });
  const settings: Record<string, string | number> = {
    port,
    listen_addresses: "'127.0.0.1'",
    unix_socket_directories: `'${dir}'`,
    // A throw-away test cluster: durability against a machine crash is not what is tested here.
    fsync: 'off',
    full_page_writes: 'off',
    shared_buffers: "'32MB'",
    max_connections: 40,
    ...opts.settings,
  };
  const conf = Object.entries(settings).map(([k, v]) => `${k} = ${v}`).join('\n');
  // Appending keeps the file's owner (the server user).
  appendFileSync(join(dataDir, 'postgresql.conf'), `\n${conf}\n`);

  let running = false;
  let destroyed = false;
  const start = async () => {
    await pgCtl(['-l', logFile, '-w', '-t', '120', 'start']);
    running = true;
  };
  const stop = async (mode: 'smart' | 'fast' | 'immediate' = 'fast') => {
    await pgCtl(['-m', mode, '-w', '-t', '120', 'stop']);
    running = false;
  };
  // A test process that dies must not leave a server behind.
  const onExit = () => {
    if (destroyed) return;
    const [file, argv] = asServerUser('pg_ctl', ['-D', dataDir, '-m', 'immediate', 'stop']);
    spawnSync(file, argv, { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', onExit);
  await start();

  const url = (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`;
  return {
    port,
    dir,
    url,
    get running() {
      return running;
    },
    async createDatabase(name) {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad database name ${name}`);
      const admin = new pg.Client({ connectionString: url() });
      await admin.connect();
      try {
        await admin.query(`create database ${name}`);
      } finally {
        await admin.end();
      }
      const client = new pg.Client({ connectionString: url(name) });
      await client.connect();
      try {
        await client.query('create extension if not exists vector');
      } finally {
        await client.end();
      }
      return url(name);
    },
    stop,
    start,
    log() {
      try {
        return readFileSync(logFile, 'utf8');
      } catch {
        return '';
      }
    },
    async destroy() {
      if (destroyed) return;
      if (running) await stop('immediate').catch(() => {});
      destroyed = true;
      process.off('exit', onExit);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
