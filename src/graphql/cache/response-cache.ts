/**
 * The API's response cache: whole GraphQL results of read operations, kept in memory per process
 * and invalidated exactly by what changed in the database.
 *
 * ## Why it is exact
 *
 * - **Freshness.** Before a cacheable operation is answered, the process reads the change feed
 *   (`change_log`, written by triggers in every writer's transaction: src/store/change-feed.ts) in
 *   a read that *started after the request arrived*; concurrent requests share one such read
 *   (`sync`). So anything acknowledged before a request arrived — through this process or any other
 *   replica — has reached the cache before the cache answers it. (`notify` mode trades this for
 *   no round trip per request: the feed is read when NOTIFY says a commit changed something.)
 * - **Dependencies.** A result is stored with the tags of what it read: a table (`label`: any change
 *   to it) or rows of one (`material:42`: material 42's row, `label:42`: material 42's labels).
 *   Table tags come from a static rule per resolved field (FIELD_RULES below: a field without a rule
 *   that has a resolver makes the operation uncacheable; a test keeps the rules complete); row tags
 *   are added while executing, by every Material and Label object the result contains
 *   (`trackRowDependencies`) and by resolvers that look rows up (`dependsOn`).
 * - **Races.** A result computed while a change it depends on arrived is not stored: each store
 *   checks that no tag of the result changed after the feed position its request started from.
 *
 * A hit costs the feed read (shared) and a map lookup instead of the resolvers and their SQL.
 * Mutations, subscriptions, `viewer`/`apiTokens` (they depend on who asks) and structure uploads are
 * never cached; results with errors are not stored.
 */
import { type DocumentNode, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import { CHANGE_LOG_CHANNEL, readChangesSince, type TableChange } from '../../store/change-feed.js';
import type { SharedReads } from '../../store/shared-reads.js';
import type { Listen } from '../../store/listen.js';
import type { Db } from '../../store/database.js';
import { CacheDependencies } from './dependencies.js';
import { planOperation, type CachePlan } from './plan.js';
// ---------------------------------------------------------------------------------------------
// The cache

export interface ResponseCacheOptions {
  /** Most results kept (0 disables the cache). */
  maxEntries: number;
  /**
   * `strict` (default): the feed is read before every cacheable request (one read shared by the
   * requests that arrive while it runs), so a write acknowledged by any process is seen by the next
   * request anywhere. `notify` (needs `listen`): the feed is read when a commit's NOTIFY arrives,
   * after every mutation of this process, when the LISTEN connection is lost or back, and at least
   * every `heartbeatMs` while requests come; between, hits cost no round trip, and another
   * process's write is seen once its NOTIFY lands (milliseconds on one network).
   */
  consistency?: 'strict' | 'notify';
  /** LISTEN for the feed's NOTIFY (without it the cache is `strict`). */
  listen?: Listen;
  /** `notify` mode: the longest a lost notification can go unnoticed (default 1000 ms). */
  heartbeatMs?: number;
  /** Most bytes of JSON kept over all results. */
  maxBytes: number;
  /** A process that has not read the feed for this long starts afresh (old feed rows are pruned). */
  staleAfterMs?: number;
}

interface Entry {
  /** A whole result, or (keys with DATA_KEY_PREFIX) a shared read's value. */
  result: unknown;
  tags: readonly string[];
  bytes: number;
}

export interface ResponseCacheStats {
  entries: number;
  bytes: number;
  hits: number;
  misses: number;
  stored: number;
  /** Results not stored because something they read changed while they were computed. */
  raced: number;
  /** Requests answered by an identical execution under way. */
  joined: number;
  invalidated: number;
  feedReads: number;
  feedErrors: number;
  /** Shared reads (src/store/shared-reads.ts) answered from the cache, loaded, joined to a load under way. */
  dataHits: number;
  dataMisses: number;
  dataJoined: number;
}

/** Keys of shared reads; a result's key starts with a query hash (hex), so the two never meet. */
const DATA_KEY_PREFIX = 'data\u0000';

/** The table of a tag: `material:42` → `material`, `label` → `label`. */
function tableOf(tag: string): string {
  const colon = tag.indexOf(':');
  return colon > 0 ? tag.slice(0, colon) : tag;
}

/** Tracking of recent changes (for the race check) is cut back to this many tags. */
const MAX_TRACKED_CHANGES = 50_000;

export class ResponseCache {
  readonly #entries = new Map<string, Entry>();
  /** tag → keys of the entries that depend on it. */
  readonly #byTag = new Map<string, Set<string>>();
  /** table → keys of the entries with any tag of that table (for "every row changed"). */
  readonly #byTable = new Map<string, Set<string>>();
  /** tag → feed position of its last change; `table:*` = every row of the table changed. */
  readonly #changedAt = new Map<string, number>();
  /** Positions below this are no longer tracked: results computed from them are not stored. */
  #trackedFrom = 0;
  #position = 0;
  #snapshot: string | null = null;
  #lastReadAt = 0;
  #bytes = 0;
  #reading: Promise<number> | null = null;
  #queued: Promise<number> | null = null;
  readonly #plans = new WeakMap<DocumentNode, Map<string, CachePlan>>();
  /** Executions under way (single flight): key → the feed position it started from and its answer. */
  readonly #running = new Map<string, { position: number; promise: Promise<Record<string, unknown> | null> }>();
  /** Shared reads under way: key → the feed position it started from and its value with tags. */
  readonly #runningData = new Map<string, { position: number; promise: Promise<{ value: unknown; tags: readonly string[] }> }>();
  readonly #stats = {
    hits: 0,
    misses: 0,
    joined: 0,
    stored: 0,
    raced: 0,
    invalidated: 0,
    feedReads: 0,
    feedErrors: 0,
    dataHits: 0,
    dataMisses: 0,
    dataJoined: 0,
  };
  readonly #staleAfterMs: number;
  readonly #heartbeatMs: number;
  readonly #strict: boolean;
  /** `notify` mode: something may have changed since the last feed read started. */
  #dirty = true;
  #unlisten: (() => Promise<void>) | null = null;

  constructor(
    private readonly db: Db,
    private readonly opts: ResponseCacheOptions,
  ) {
    this.#staleAfterMs = opts.staleAfterMs ?? 60_000;
    this.#heartbeatMs = opts.heartbeatMs ?? 1000;
    this.#strict = opts.consistency !== 'notify' || !opts.listen;
  }

  /** `notify` mode: subscribes to the feed's NOTIFY (a reconnect calls back too: read the feed then). */
  async start(): Promise<void> {
    if (this.#strict || !this.enabled || this.#unlisten) return;
    this.#unlisten = await this.opts.listen!(CHANGE_LOG_CHANNEL, () => {
      this.#dirty = true;
      // Read now, so that the next request finds the invalidations done.
      this.sync().catch(() => undefined);
    });
  }

  async close(): Promise<void> {
    const unlisten = this.#unlisten;
    this.#unlisten = null;
    // The database may be closed already (its LISTEN went with it).
    await unlisten?.().catch(() => undefined);
  }

  /** A write of this process committed: the next request reads the feed first (read-your-writes). */
  markDirty(): void {
    this.#dirty = true;
  }

  get consistency(): 'strict' | 'notify' {
    return this.#strict ? 'strict' : 'notify';
  }

  get enabled(): boolean {
    return this.opts.maxEntries > 0;
  }

  stats(): ResponseCacheStats {
    return { entries: this.#entries.size, bytes: this.#bytes, ...this.#stats };
  }

  plan(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode): CachePlan {
    let byOperation = this.#plans.get(document);
    if (!byOperation) this.#plans.set(document, (byOperation = new Map()));
    const name = operation.name?.value ?? '';
    let plan = byOperation.get(name);
    if (!plan) byOperation.set(name, (plan = planOperation(schema, document, operation)));
    return plan;
  }

  /**
   * Resolves with the feed position after a read of the change feed that started after this call
   * (concurrent callers share reads: at most one runs and one waits). Rejects when the database
   * does not answer; the caller then answers without the cache.
   */
  sync(): Promise<number> {
    // notify mode, nothing announced since the last read started, read recently: that read (if it is
    // still running) makes the cache as fresh as a new one would.
    if (!this.#strict && !this.#dirty && Date.now() - this.#lastReadAt < this.#heartbeatMs) {
      return this.#reading ?? Promise.resolve(this.#position);
    }
    if (!this.#reading) {
      this.#reading = this.#readFeed().finally(() => {
        this.#reading = null;
      });
      return this.#reading;
    }
    this.#queued ??= this.#reading
      .catch(() => undefined)
      .then(() => {
        this.#queued = null;
        return this.sync();
      });
    return this.#queued;
  }

  async #readFeed(): Promise<number> {
    this.#stats.feedReads++;
    // Notifications from here on ask for another read.
    this.#dirty = false;
    const fresh = this.#snapshot === null || Date.now() - this.#lastReadAt > this.#staleAfterMs;
    let read;
    try {
      read = await readChangesSince(this.db, fresh ? null : this.#snapshot);
    } catch (error) {
      this.#stats.feedErrors++;
      this.#dirty = true;
      throw error;
    }
    this.#lastReadAt = Date.now();
    this.#snapshot = read.snapshot;
    if (fresh) {
      // First read, or too long without one (feed rows may be pruned): forget everything.
      this.#position++;
      this.clear();
      this.#trackedFrom = this.#position;
    } else if (read.changes.length > 0) {
      this.#position++;
      for (const change of read.changes) this.#apply(change);
      if (this.#changedAt.size > MAX_TRACKED_CHANGES) {
        this.#changedAt.clear();
        this.#trackedFrom = this.#position + 1;
      }
    }
    return this.#position;
  }

  #apply(change: TableChange): void {
    const position = this.#position;
    this.#changedAt.set(change.table, position);
    this.#invalidate(this.#byTag.get(change.table));
    if (change.ids === null) {
      this.#changedAt.set(`${change.table}:*`, position);
      this.#invalidate(this.#byTable.get(change.table));
      return;
    }
    for (const id of change.ids) {
      const tag = `${change.table}:${id}`;
      this.#changedAt.set(tag, position);
      this.#invalidate(this.#byTag.get(tag));
    }
  }

  #invalidate(keys: Set<string> | undefined): void {
    if (!keys) return;
    for (const key of [...keys]) {
      if (this.#delete(key)) this.#stats.invalidated++;
    }
  }

  #delete(key: string): boolean {
    const entry = this.#entries.get(key);
    if (!entry) return false;
    this.#entries.delete(key);
    this.#bytes -= entry.bytes;
    for (const tag of entry.tags) {
      this.#byTag.get(tag)?.delete(key);
      this.#byTable.get(tableOf(tag))?.delete(key);
    }
    return true;
  }

  get(key: string): Record<string, unknown> | undefined {
    const entry = this.#entries.get(key);
    if (!entry) {
      this.#stats.misses++;
      return undefined;
    }
    // Most recently used last: eviction takes the first.
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    this.#stats.hits++;
    return entry.result as Record<string, unknown>;
  }

  /** Stores a result computed from feed position `from`, unless something it read changed since. */
  set(key: string, result: Record<string, unknown>, tags: Iterable<string>, from: number): boolean {
    return this.#store(key, result, [...tags], from);
  }

  /**
   * Shared reads (src/store/shared-reads.ts) for a request that synced to feed position `from`:
   * values stored like results (same tags, same race check, same LRU), and the tags of every value
   * handed out are added to `deps`, so the request's own result depends on them too.
   */
  readsFrom(from: number, deps: CacheDependencies): SharedReads {
    const use = (tags: readonly string[]) => {
      for (const tag of tags) deps.tags.add(tag);
    };
    const lookup = (key: string): Entry | undefined => {
      const entry = this.#entries.get(key);
      if (!entry) return undefined;
      this.#entries.delete(key);
      this.#entries.set(key, entry);
      this.#stats.dataHits++;
      use(entry.tags);
      return entry;
    };
    return {
      read: async <T>(key: string, load: () => Promise<T>, tagsOf: (value: T) => readonly string[]): Promise<T> => {
        const k = DATA_KEY_PREFIX + key;
        const entry = lookup(k);
        if (entry) return entry.result as T;
        const running = this.#runningData.get(k);
        if (running && running.position === from) {
          this.#stats.dataJoined++;
          const { value, tags } = await running.promise;
          use(tags);
          return value as T;
        }
        this.#stats.dataMisses++;
        const mine = { position: from, promise: load().then((value) => ({ value, tags: tagsOf(value) })) };
        this.#runningData.set(k, mine);
        try {
          const { value, tags } = await mine.promise;
          this.#store(k, value, tags, from);
          use(tags);
          return value;
        } finally {
          if (this.#runningData.get(k) === mine) this.#runningData.delete(k);
        }
      },
      readMany: async <T>(
        keys: readonly string[],
        load: (missing: readonly number[]) => Promise<T[]>,
        tagsOf: (value: T, index: number) => readonly string[],
      ): Promise<T[]> => {
        const values = new Array<T>(keys.length);
        const missing: number[] = [];
        keys.forEach((key, i) => {
          const entry = lookup(DATA_KEY_PREFIX + key);
          if (entry) values[i] = entry.result as T;
          else missing.push(i);
        });
        if (missing.length === 0) return values;
        this.#stats.dataMisses += missing.length;
        const loaded = await load(missing);
        missing.forEach((index, j) => {
          const value = loaded[j] as T;
          const tags = tagsOf(value, index);
          this.#store(DATA_KEY_PREFIX + keys[index]!, value, tags, from);
          use(tags);
          values[index] = value;
        });
        return values;
      },
    };
  }

  #store(key: string, result: unknown, list: readonly string[], from: number): boolean {
    if (!this.enabled) return false;
    if (from < this.#trackedFrom || list.some((tag) => this.#changedSince(tag, from))) {
      this.#stats.raced++;
      return false;
    }
    const bytes = JSON.stringify(result).length;
    if (bytes > this.opts.maxBytes / 4) return false;
    this.#delete(key);
    this.#entries.set(key, { result, tags: list, bytes });
    this.#bytes += bytes;
    for (const tag of list) {
      let keys = this.#byTag.get(tag);
      if (!keys) this.#byTag.set(tag, (keys = new Set()));
      keys.add(key);
      const table = tableOf(tag);
      let tableKeys = this.#byTable.get(table);
      if (!tableKeys) this.#byTable.set(table, (tableKeys = new Set()));
      tableKeys.add(key);
    }
    while (this.#entries.size > this.opts.maxEntries || this.#bytes > this.opts.maxBytes) {
      const oldest = this.#entries.keys().next().value as string;
      this.#delete(oldest);
    }
    this.#stats.stored++;
    return true;
  }

  #changedSince(tag: string, from: number): boolean {
    const at = this.#changedAt.get(tag);
    if (at !== undefined && at > from) return true;
    const table = tableOf(tag);
    if (table === tag) return false;
    const tableAt = this.#changedAt.get(`${table}:*`);
    return tableAt !== undefined && tableAt > from;
  }

  /** The answer of the same operation executing from feed position `position`, if one is (single flight). */
  inFlight(key: string, position: number): Promise<Record<string, unknown> | null> | undefined {
    const running = this.#running.get(key);
    if (!running || running.position !== position) return undefined;
    this.#stats.joined++;
    return running.promise;
  }

  /** Registers an execution of `key` from `position`; call the returned function with its answer (null: none). */
  lead(key: string, position: number): (result: Record<string, unknown> | null) => void {
    let settle!: (result: Record<string, unknown> | null) => void;
    const promise = new Promise<Record<string, unknown> | null>((resolve) => (settle = resolve));
    const running = { position, promise };
    this.#running.set(key, running);
    return (result) => {
      if (this.#running.get(key) === running) this.#running.delete(key);
      settle(result);
    };
  }

  clear(): void {
    this.#entries.clear();
    this.#byTag.clear();
    this.#byTable.clear();
    this.#bytes = 0;
  }
}

