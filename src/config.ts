/**
 * Runtime configuration, read once at an entry point (CLI, server, trainer) and passed down.
 * Nothing else reads `process.env`.
 */
import { z } from 'zod';

export interface Config {
  /** PostgreSQL URL; when unset the embedded PGlite database in `dataDir` is used. */
  readonly databaseUrl?: string;
  /**
   * PostgreSQL URL for the connections that need a session of their own — LISTEN and the startup
   * lock — when `databaseUrl` goes through a transaction-mode pooler (PgBouncer); default
   * `databaseUrl`. docs/SCALING.md.
   */
  readonly sessionDatabaseUrl?: string;
  /** PGlite data directory (created if missing); 'memory://' for a throw-away database. */
  readonly dataDir: string;
  readonly host: string;
  readonly port: number;
  readonly logLevel: string;
  /** Largest structure accepted, in sites after symmetry expansion. */
  readonly maxSites: number;
  /** Largest structure text accepted, in bytes. */
  readonly maxTextBytes: number;
  /** Most inputs accepted by one addMaterials call. */
  readonly maxBatchSize: number;
  /** Folder holding the shipped datasets (obelix/, candidates/). */
  readonly seedDir: string;
  /**
   * PostgreSQL only: connections in this process's pool (queries, transactions, the in-process
   * worker); LISTEN holds one more. docs/SCALING.md sizes it against max_connections.
   */
  readonly dbPoolSize: number;
  /** Operation limits (src/graphql/limits.ts) and HTTP limits (src/rate-limit.ts); README "Limits". */
  readonly limits: Limits;
  /** Every GraphQL operation needs an API token (reads too); otherwise reads are open (writes always need one). */
  readonly requireAuth: boolean;
  /**
   * Which proxies' X-Forwarded-For to believe for the client IP (rate limits, logs): Express's
   * 'trust proxy' — false (none, the default), true (any), a hop count, or addresses/subnets
   * ('loopback', '10.0.0.0/8, 172.16.0.0/12').
   */
  readonly trustProxy: boolean | number | string;
  /**
   * The API's response cache (src/graphql/cache/response-cache.ts): most answers kept in memory
   * (0 = off), and the most bytes of JSON they may hold.
   */
  readonly responseCache: { readonly maxEntries: number; readonly maxBytes: number; readonly consistency: 'strict' | 'notify' };
  /**
   * Nice value a separate trainer process (`ionsieve trainer`) lowers itself to, 0–19 (0 = as
   * started): training takes the CPU that serving leaves (trainer/priority.ts). The embedded
   * default's in-process worker shares the API's process and keeps its priority.
   */
  readonly trainerNice: number;
  /**
   * Where a training job fits and evaluates: 'process' (a child process at `trainerNice`, so the
   * serving process keeps its event loop) or 'inline' (the worker's own thread).
   */
  readonly trainerIsolation: 'process' | 'inline';
  /**
   * Hosts an OPTIMADE import may send requests to, `host` (the scheme's default port) or
   * `host:port`, lower-case; checked for the base URL, every followed `links.next` and every
   * redirect (src/services/optimade-hosts.ts). Default: DEFAULT_OPTIMADE_HOSTS.
   */
  readonly optimadeHosts: readonly string[];
}

/**
 * Public OPTIMADE providers of crystal structures an import may reach unless
 * IONSIEVE_OPTIMADE_HOSTS says otherwise: Materials Project, Alexandria (PBE, PBEsol), OQMD, the
 * Open Materials Database, odbx and its GNoME mirror, the Crystallography Open Database, NOMAD and
 * JARVIS-DFT. No internal address is on it; an empty variable (`IONSIEVE_OPTIMADE_HOSTS=`) keeps
 * this list, `none` allows no host.
 */
export const DEFAULT_OPTIMADE_HOSTS: readonly string[] = Object.freeze([
  'optimade.materialsproject.org',
  'alexandria.icams.rub.de',
  'oqmd.org',
  'optimade.openmaterialsdb.se',
  'optimade.odbx.science',
  'optimade-gnome.odbx.science',
  'www.crystallography.net',
  'nomad-lab.eu',
  'jarvis.nist.gov',
]);

/** `host` or `host:port` (a name, an IPv4 address or a bracketed IPv6 address), lower-cased. */
const OPTIMADE_HOST = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*|\[[0-9a-f:.]+\])(?::\d{1,5})?$/;

function optimadeHostList(value: string | undefined): readonly string[] | string {
  if (value === undefined || value.trim() === '') return DEFAULT_OPTIMADE_HOSTS;
  if (value.trim().toLowerCase() === 'none') return Object.freeze([]);
  const hosts = value.split(',').map((h) => h.trim().toLowerCase()).filter((h) => h !== '');
  const portOf = (h: string) => (h.startsWith('[') ? h.split(']:')[1] : h.split(':')[1]);
  const bad = hosts.find((h) => !OPTIMADE_HOST.test(h) || Number(portOf(h) ?? 0) > 65535);
  if (bad !== undefined) return `IONSIEVE_OPTIMADE_HOSTS: ${JSON.stringify(bad)} is not host or host:port`;
  return Object.freeze([...new Set(hosts)]);
}

export interface Limits {
  /** Schema introspection (`__schema`, `__type`); off also hides "Did you mean …" suggestions. */
  readonly introspection: boolean;
  /** Deepest field nesting of an operation (graphql-armor maxDepth; leaf fields count). */
  readonly maxDepth: number;
  /** Largest estimated operation cost (fields × page sizes and k, see operationCost). */
  readonly maxCost: number;
  /** Most aliases in one operation. */
  readonly maxAliases: number;
  /** Most lexical tokens in one document (a string literal is one token). */
  readonly maxTokens: number;
  /**
   * Largest JSON request body, in bytes. addMaterials sends structure text inline: a batch of a few
   * hundred CIFs (typically 5–50 kB each) fits; one text is further capped by `maxTextBytes`.
   */
  readonly maxBodyBytes: number;
  /** Requests per client (bearer token, else IP) per `rateLimitDurationSeconds`; 0 disables. */
  readonly rateLimitPoints: number;
  readonly rateLimitDurationSeconds: number;
}

const emptyToUndefined = (value: unknown) => (value === '' ? undefined : value);

const positiveInt = (fallback: number) =>
  z.preprocess(emptyToUndefined, z.coerce.number().int().positive().default(fallback));

const nonNegativeInt = (fallback: number) =>
  z.preprocess(emptyToUndefined, z.coerce.number().int().min(0).default(fallback));

const booleanFlag = (fallback: boolean) =>
  z.preprocess(
    (value) => (typeof value === 'string' && value !== '' ? value.toLowerCase() : undefined),
    z.enum(['true', 'false', '1', '0']).default(fallback ? 'true' : 'false').transform((v) => v === 'true' || v === '1'),
  );

function trustProxySetting(value: string): boolean | number | string {
  const lowered = value.trim().toLowerCase();
  if (lowered === 'false' || lowered === '0') return false;
  if (lowered === 'true') return true;
  if (/^\d+$/.test(lowered)) return Number(lowered);
  return value.trim();
}

const envSchema = z.object({
  DATABASE_URL: z.preprocess(emptyToUndefined, z.string().url().optional()),
  IONSIEVE_SESSION_DATABASE_URL: z.preprocess(emptyToUndefined, z.string().url().optional()),
  IONSIEVE_DATA_DIR: z.preprocess(emptyToUndefined, z.string().default('.ionsieve/pgdata')),
  HOST: z.preprocess(emptyToUndefined, z.string().default('127.0.0.1')),
  PORT: z.preprocess(emptyToUndefined, z.coerce.number().int().min(0).max(65535).default(4000)),
  LOG_LEVEL: z.preprocess(
    emptyToUndefined,
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ),
  IONSIEVE_MAX_SITES: positiveInt(2000),
  IONSIEVE_MAX_TEXT_BYTES: positiveInt(5 * 1024 * 1024),
  IONSIEVE_MAX_BATCH: positiveInt(1000),
  IONSIEVE_SEED_DIR: z.preprocess(emptyToUndefined, z.string().default('data')),
  IONSIEVE_DB_POOL_SIZE: positiveInt(10),
  IONSIEVE_INTROSPECTION: booleanFlag(true),
  IONSIEVE_MAX_DEPTH: positiveInt(8),
  IONSIEVE_MAX_COST: positiveInt(30_000),
  IONSIEVE_MAX_ALIASES: positiveInt(15),
  IONSIEVE_MAX_TOKENS: positiveInt(1000),
  IONSIEVE_MAX_BODY_BYTES: positiveInt(10 * 1024 * 1024),
  IONSIEVE_RATE_LIMIT_POINTS: nonNegativeInt(3000),
  IONSIEVE_RATE_LIMIT_DURATION: positiveInt(60),
  IONSIEVE_REQUIRE_AUTH: booleanFlag(false),
  IONSIEVE_TRUST_PROXY: z.preprocess(emptyToUndefined, z.string().default('false')),
  IONSIEVE_RESPONSE_CACHE_ENTRIES: nonNegativeInt(20_000),
  IONSIEVE_RESPONSE_CACHE_MB: positiveInt(64),
  IONSIEVE_RESPONSE_CACHE_CONSISTENCY: z.preprocess(emptyToUndefined, z.enum(['strict', 'notify']).default('strict')),
  IONSIEVE_TRAINER_NICE: z.preprocess(emptyToUndefined, z.coerce.number().int().min(0).max(19).default(10)),
  IONSIEVE_TRAINER_ISOLATION: z.preprocess(emptyToUndefined, z.enum(['process', 'inline']).default('process')),
  IONSIEVE_OPTIMADE_HOSTS: z.string().optional(),
});

/**
 * Validates the environment once and returns a frozen Config.
 * Throws an Error listing every invalid variable (a startup failure, not a domain error).
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`invalid configuration: ${problems.join('; ')}`);
  }
  const e = parsed.data;
  const optimadeHosts = optimadeHostList(e.IONSIEVE_OPTIMADE_HOSTS);
  if (typeof optimadeHosts === 'string') throw new Error(`invalid configuration: ${optimadeHosts}`);
  return Object.freeze({
    databaseUrl: e.DATABASE_URL,
    sessionDatabaseUrl: e.DATABASE_URL ? (e.IONSIEVE_SESSION_DATABASE_URL ?? e.DATABASE_URL) : undefined,
    dataDir: e.IONSIEVE_DATA_DIR,
    host: e.HOST,
    port: e.PORT,
    logLevel: e.LOG_LEVEL,
    maxSites: e.IONSIEVE_MAX_SITES,
    maxTextBytes: e.IONSIEVE_MAX_TEXT_BYTES,
    maxBatchSize: e.IONSIEVE_MAX_BATCH,
    seedDir: e.IONSIEVE_SEED_DIR,
    dbPoolSize: e.IONSIEVE_DB_POOL_SIZE,
    limits: Object.freeze({
      introspection: e.IONSIEVE_INTROSPECTION,
      maxDepth: e.IONSIEVE_MAX_DEPTH,
      maxCost: e.IONSIEVE_MAX_COST,
      maxAliases: e.IONSIEVE_MAX_ALIASES,
      maxTokens: e.IONSIEVE_MAX_TOKENS,
      maxBodyBytes: e.IONSIEVE_MAX_BODY_BYTES,
      rateLimitPoints: e.IONSIEVE_RATE_LIMIT_POINTS,
      rateLimitDurationSeconds: e.IONSIEVE_RATE_LIMIT_DURATION,
    }),
    requireAuth: e.IONSIEVE_REQUIRE_AUTH,
    trustProxy: trustProxySetting(e.IONSIEVE_TRUST_PROXY),
    responseCache: Object.freeze({
      maxEntries: e.IONSIEVE_RESPONSE_CACHE_ENTRIES,
      maxBytes: e.IONSIEVE_RESPONSE_CACHE_MB * 1024 * 1024,
      consistency: e.IONSIEVE_RESPONSE_CACHE_CONSISTENCY,
    }),
    trainerNice: e.IONSIEVE_TRAINER_NICE,
    trainerIsolation: e.IONSIEVE_TRAINER_ISOLATION,
    optimadeHosts,
  });
}
