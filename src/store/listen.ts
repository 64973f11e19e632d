/**
 * LISTEN/NOTIFY subscriptions on either dialect, behind one function type (the same shape as
 * `Listen` in src/jobs/worker.ts):
 * - PGlite: its built-in `listen` (one in-process connection; NOTIFY from any query reaches it);
 * - PostgreSQL: one dedicated `pg.Client` per process running LISTEN for every subscribed
 *   channel (a pooled connection cannot hold a LISTEN), reconnecting with backoff after errors.
 *
 * Notifications are a wake-up, not a source of truth: a NOTIFY sent while the connection was
 * down is lost. When the connection is lost, and again after a reconnect, every callback is called
 * once with an empty payload, meaning "something may have changed; look at the database".
 */
import pg from 'pg';

/** Subscribes `onNotify` to `channel`; resolves to an unsubscribe function. */
export type Listen = (channel: string, onNotify: (payload: string) => void) => Promise<() => Promise<void>>;

/** The part of PGlite this needs (narrow interface: tests and other wrappers can provide it). */
export interface PGliteListenable {
  listen(channel: string, callback: (payload: string) => void): Promise<(tx?: never) => Promise<void>>;
}

/** Channel names are spliced into LISTEN (no bind parameters there): plain identifiers only. */
const CHANNEL_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;

function checkChannel(channel: string): string {
  if (!CHANNEL_PATTERN.test(channel)) throw new Error(`invalid NOTIFY channel name ${JSON.stringify(channel)}`);
  return channel;
}

export function createPGliteListen(pglite: PGliteListenable): Listen {
  return async (channel, onNotify) => {
    const unsubscribe = await pglite.listen(checkChannel(channel), (payload) => onNotify(payload ?? ''));
    return async () => {
      await unsubscribe();
    };
  };
}

export interface PostgresListener {
  listen: Listen;
  /** Ends the connection and stops reconnecting. */
  close(): Promise<void>;
}

export interface PostgresListenerOptions {
  /** Called with connection problems (the listener keeps retrying). */
  onError?: (error: Error) => void;
  /** Called after a lost connection was re-established and every channel LISTENed again. */
  onReconnect?: () => void;
  /** First reconnect delay; doubles up to maxReconnectDelayMs (default 5 s: a restarted server is noticed within seconds). */
  reconnectDelayMs?: number;
  maxReconnectDelayMs?: number;
}

export function createPostgresListener(databaseUrl: string, opts: PostgresListenerOptions = {}): PostgresListener {
  const callbacks = new Map<string, Set<(payload: string) => void>>();
  const firstDelay = opts.reconnectDelayMs ?? 500;
  const maxDelay = opts.maxReconnectDelayMs ?? 5_000;
  let client: pg.Client | null = null;
  let connecting: Promise<pg.Client> | null = null;
  let reconnectTimer: NodeJS.Timeout | null = null;
  let delay = firstDelay;
  let closed = false;

  const deliver = (channel: string, payload: string) => {
    for (const cb of callbacks.get(channel) ?? []) {
      try {
        cb(payload);
      } catch (error) {
        opts.onError?.(error as Error);
      }
    }
  };

  const scheduleReconnect = () => {
    if (closed || reconnectTimer) return;
    reconnectTimer = setTimeout(() => {
      reconnectTimer = null;
      connect().then(
        () => {
          opts.onReconnect?.();
          // Anything sent while we were away is lost: let every subscriber look for itself.
          for (const channel of callbacks.keys()) deliver(channel, '');
        },
        () => scheduleReconnect(),
      );
    }, delay);
    reconnectTimer.unref();
    delay = Math.min(maxDelay, delay * 2);
  };

  const connect = (): Promise<pg.Client> => {
    if (client) return Promise.resolve(client);
    connecting ??= (async () => {
      const next = new pg.Client({ connectionString: databaseUrl });
      const lost = (error?: Error) => {
        if (client === next) client = null;
        next.removeAllListeners();
        next.on('error', () => {});
        next.end().catch(() => {});
        if (error) opts.onError?.(error);
        // From here on notifications are lost: subscribers that keep state (the response cache) look for themselves.
        for (const channel of callbacks.keys()) deliver(channel, '');
        scheduleReconnect();
      };
      try {
        await next.connect();
        next.on('notification', (msg) => deliver(msg.channel, msg.payload ?? ''));
        next.on('error', (error) => lost(error));
        next.on('end', () => {
          if (!closed) lost(new Error('LISTEN connection ended'));
        });
        for (const channel of callbacks.keys()) await next.query(`LISTEN ${channel}`);
        client = next;
        delay = firstDelay;
        return next;
      } catch (error) {
        next.removeAllListeners();
        next.on('error', () => {});
        await next.end().catch(() => {});
        opts.onError?.(error as Error);
        throw error;
      } finally {
        connecting = null;
      }
    })();
    return connecting;
  };

  const listen: Listen = async (channel, onNotify) => {
    if (closed) throw new Error('listener is closed');
    checkChannel(channel);
    let set = callbacks.get(channel);
    const isNew = !set;
    if (!set) callbacks.set(channel, (set = new Set()));
    set.add(onNotify);
    try {
      const c = await connect();
      // connect() LISTENs on every channel known when it connected; a new one needs its own.
      if (isNew) await c.query(`LISTEN ${channel}`);
    } catch (error) {
      set.delete(onNotify);
      if (set.size === 0) callbacks.delete(channel);
      throw error;
    }
    return async () => {
      set!.delete(onNotify);
      if (set!.size === 0 && callbacks.get(channel) === set) {
        callbacks.delete(channel);
        await client?.query(`UNLISTEN ${channel}`).catch(() => {});
      }
    };
  };

  return {
    listen,
    async close() {
      closed = true;
      if (reconnectTimer) clearTimeout(reconnectTimer);
      callbacks.clear();
      const c = client ?? (connecting ? await connecting.catch(() => null) : null);
      client = null;
      if (c) {
        c.removeAllListeners();
        c.on('error', () => {});
        await c.end().catch(() => {});
      }
    },
  };
}

/** A Listen for an opened database: `opened.listen` (set by openDatabase on both dialects). */
export function createListener(opened: { listen?: Listen }): Listen {
  if (!opened.listen) throw new Error('this database handle offers no LISTEN (open it with openDatabase)');
  return opened.listen;
}
