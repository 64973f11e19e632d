/**
 * The HTTP side of an OPTIMADE import: which URLs may be requested (the host allow-list,
 * `IONSIEVE_OPTIMADE_HOSTS`), and one GET of a JSON page with redirects checked hop by hop,
 * retries of 429 and 5xx with exponential backoff (Retry-After honoured), a time limit and a
 * size limit. Nothing here touches the database.
 *
 * Why the allow-list is checked on every hop: an import is started through the API, so without it
 * an admin token (or a provider's `links.next`, or a redirect) could make the server fetch internal
 * addresses (cloud metadata, the database's admin port). Redirects are never followed by fetch
 * itself (`redirect: 'manual'`): each Location is resolved and checked before it is requested.
 */
import { BadInputError } from '../errors.js';

/** Most redirects followed for one request. */
const MAX_REDIRECTS = 5;

/** An allow-list entry: a host name (or address) and a port, null meaning the scheme's default. */
interface AllowedHost {
  hostname: string;
  port: string | null;
}

function parseAllowedHost(entry: string): AllowedHost {
  // `new URL` normalises the name the way the URLs it is compared with are normalised.
  const url = new URL(`http://${entry}`);
  const explicitPort = entry.startsWith('[') ? entry.split(']:')[1] : entry.split(':')[1];
  return { hostname: url.hostname, port: explicitPort ?? null };
}

const DEFAULT_PORT: Readonly<Record<string, string>> = { 'http:': '80', 'https:': '443' };

/** Whether `url` names a host on the list (`host` allows the scheme's default port only). */
export function isAllowedUrl(url: URL, allowedHosts: readonly string[]): boolean {
  const port = url.port === '' ? DEFAULT_PORT[url.protocol] : url.port;
  return allowedHosts.some((entry) => {
    const allowed = parseAllowedHost(entry);
    if (allowed.hostname !== url.hostname) return false;
    return allowed.port === null ? url.port === '' : allowed.port === port;
  });
}

/**
 * Parses and checks a URL the import is about to request. BadInputError naming `field` for a URL
 * that does not parse, is not http(s), carries credentials, or names a host not on the list.
 */
export function checkOptimadeUrl(text: string, allowedHosts: readonly string[], field: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new BadInputError(`${field}: ${JSON.stringify(String(text).slice(0, 200))} is not a URL (expected e.g. https://optimade.materialsproject.org)`, { field });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new BadInputError(`${field}: only http and https URLs are fetched, not ${url.protocol}`, { field });
  }
  if (url.username !== '' || url.password !== '') throw new BadInputError(`${field}: a URL with credentials is not accepted`, { field });
  if (!isAllowedUrl(url, allowedHosts)) {
    const listed = allowedHosts.length === 0 ? 'no host is allowed' : `allowed: ${allowedHosts.join(', ')}`;
    throw new BadInputError(
      `${field}: host ${url.host} is not on the OPTIMADE allow-list (IONSIEVE_OPTIMADE_HOSTS; ${listed})`,
      { field, host: url.host },
    );
  }
  return url;
}

export interface FetchJsonOptions {
  allowedHosts: readonly string[];
  signal?: AbortSignal;
  /** Retries after the first try (429, 5xx, network errors). Default 5. */
  maxRetries?: number;
  /** First backoff, doubled each retry. Default 1000 ms. */
  baseDelayMs?: number;
  /** Longest wait between tries, Retry-After included. Default 60 s. */
  maxDelayMs?: number;
  /** Per request (connect, headers, body). Default 60 s. */
  timeoutMs?: number;
  /** Largest response body. Default 64 MiB. */
  maxBytes?: number;
  /** Called before each retry (for progress and logs). */
  onRetry?: (info: { url: string; attempt: number; delayMs: number; reason: string }) => void;
}

/** A response the provider will keep giving (4xx other than 429, not JSON): retrying cannot help. */
export class OptimadeResponseError extends BadInputError {}

/** A 429/5xx/network failure that outlasted its retries; the job queue may retry the job later. */
export class OptimadeUnavailableError extends Error {}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Retry-After as milliseconds (delta seconds or an HTTP date), or null when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | null {
  if (header === null || header.trim() === '') return null;
  const seconds = Number(header.trim());
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

async function readLimited(response: Response, maxBytes: number, url: string): Promise<string> {
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel();
    throw new OptimadeResponseError(`${url}: response of ${declared} bytes is larger than the limit of ${maxBytes}`);
  }
  if (!response.body) return '';
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    total += chunk.byteLength;
    if (total > maxBytes) throw new OptimadeResponseError(`${url}: response is larger than the limit of ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The provider's own error text from an OPTIMADE error document, when there is one. */
function providerErrorDetail(text: string): string {
  try {
    const doc = JSON.parse(text) as { errors?: { detail?: unknown; title?: unknown }[] };
    const first = doc.errors?.[0];
    const detail = first?.detail ?? first?.title;
    if (typeof detail === 'string') return detail.slice(0, 500);
  } catch {
    // Not JSON.
  }
  return text.slice(0, 200);
}

/**
 * GETs `url` (checked against the allow-list, as is every redirect) and parses its JSON body.
 * Retries 429, 5xx and network errors up to `maxRetries` times, waiting the provider's Retry-After
 * when given, else baseDelayMs · 2^n (both capped at maxDelayMs). Throws OptimadeResponseError
 * (not retryable: 4xx, bad JSON, too large), OptimadeUnavailableError (retries spent), or
 * BadInputError for a host not on the list.
 */
export async function fetchOptimadeJson(url: string, opts: FetchJsonOptions): Promise<{ url: string; body: unknown; retries: number }> {
  const maxRetries = opts.maxRetries ?? 5;
  const baseDelayMs = opts.baseDelayMs ?? 1000;
  const maxDelayMs = opts.maxDelayMs ?? 60_000;
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const maxBytes = opts.maxBytes ?? 64 * 1024 * 1024;
  let retries = 0;
  for (let attempt = 0; ; attempt++) {
    let failure: string;
    let waitMs: number | null = null;
    let target = checkOptimadeUrl(url, opts.allowedHosts, 'url').toString();
    try {
      const signal = opts.signal ? AbortSignal.any([opts.signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs);
      let response: Response;
      for (let hop = 0; ; hop++) {
        response = await fetch(target, {
          redirect: 'manual',
          signal,
          headers: { accept: 'application/vnd.api+json, application/json' },
        });
        if (response.status < 300 || response.status >= 400 || response.status === 304) break;
        const location = response.headers.get('location');
        await response.body?.cancel();
        if (!location) throw new OptimadeResponseError(`${target}: redirect ${response.status} without a Location`);
        if (hop >= MAX_REDIRECTS) throw new OptimadeResponseError(`${url}: more than ${MAX_REDIRECTS} redirects`);
        // A redirect to a host not on the list is refused like a URL given by the caller.
        target = checkOptimadeUrl(new URL(location, target).toString(), opts.allowedHosts, `redirect from ${target}`).toString();
      }
      if (response.ok) {
        const text = await readLimited(response, maxBytes, target);
        try {
          return { url: target, body: JSON.parse(text), retries };
        } catch (error) {
          throw new OptimadeResponseError(`${target}: the response is not JSON (${(error as Error).message})`);
        }
      }
      const text = await readLimited(response, maxBytes, target).catch(() => '');
      if (response.status !== 429 && response.status < 500) {
        throw new OptimadeResponseError(`${target}: the provider answered ${response.status}: ${providerErrorDetail(text)}`, { status: response.status });
      }
      failure = `HTTP ${response.status}`;
      waitMs = retryAfterMs(response.headers.get('retry-after'));
    } catch (error) {
      if (error instanceof BadInputError) throw error;
      if (opts.signal?.aborted) throw opts.signal.reason ?? error;
      failure = error instanceof Error ? (error.cause instanceof Error ? `${error.message}: ${error.cause.message}` : error.message) : String(error);
    }
    if (attempt >= maxRetries) throw new OptimadeUnavailableError(`${url}: ${failure} after ${attempt + 1} tries`);
    const delayMs = Math.min(maxDelayMs, waitMs ?? baseDelayMs * 2 ** attempt);
    opts.onRetry?.({ url, attempt: attempt + 1, delayMs, reason: failure });
    retries++;
    await sleep(delayMs, opts.signal);
  }
}
