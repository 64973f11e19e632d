/**
 * The dashboard's GraphQL client: `fetch` for queries and mutations, graphql-ws for subscriptions,
 * both on the same `/graphql` path as the page's origin (the API server serves this build).
 * Every failure becomes an `ApiError` whose entries carry the server's `message` and
 * `extensions.code`, so views can show them in words.
 */
import { createClient, type Client } from 'graphql-ws';
import type { TypedString } from './typed.js';

export interface ApiErrorEntry {
  message: string;
  /** `extensions.code` from the server (BAD_USER_INPUT, NOT_FOUND, …), or a client-side code. */
  code: string;
  path?: readonly (string | number)[];
  requestId?: string;
}

export class ApiError extends Error {
  readonly entries: ApiErrorEntry[];
  /** Data returned beside the errors, when the server answered in part. */
  readonly partialData: unknown;
  constructor(entries: ApiErrorEntry[], partialData: unknown = null) {
    super(entries.map((entry) => `${entry.message} (${entry.code})`).join('; '));
    this.name = 'ApiError';
    this.entries = entries;
    this.partialData = partialData;
  }
  /** True when every entry has one of these codes. */
  is(...codes: string[]): boolean {
    return this.entries.length > 0 && this.entries.every((entry) => codes.includes(entry.code));
  }
}

interface RawError {
  message?: unknown;
  path?: readonly (string | number)[];
  extensions?: { code?: unknown; requestId?: unknown };
}

function toEntries(errors: readonly RawError[]): ApiErrorEntry[] {
  return errors.map((error) => ({
    message: typeof error.message === 'string' ? error.message : 'unknown error',
    code: typeof error.extensions?.code === 'string' ? error.extensions.code : 'UNKNOWN',
    path: error.path,
    requestId: typeof error.extensions?.requestId === 'string' ? error.extensions.requestId : undefined,
  }));
}

export const GRAPHQL_PATH = '/graphql';
/** localStorage key of the API token (README "Access control"); the server records its name as `createdBy`. */
const TOKEN_KEY = 'ionsieve.token';

let wsClient: Client | undefined;

/** The API token kept in this browser, or '' (reads need none unless the server requires one; writes do). */
export function getToken(): string {
  try {
    return localStorage.getItem(TOKEN_KEY) ?? '';
  } catch {
    return '';
  }
}

/** Keeps (or, when blank, forgets) the token; open subscriptions reconnect with it. */
export function setToken(token: string): void {
  try {
    if (token.trim()) localStorage.setItem(TOKEN_KEY, token.trim());
    else localStorage.removeItem(TOKEN_KEY);
  } catch {
    // Private mode without storage: the token is simply not remembered.
  }
  // graphql-ws sends connectionParams once per connection: start a new one for the new token.
  const previous = wsClient;
  wsClient = undefined;
  void previous?.dispose();
}

function authHeaders(): Record<string, string> {
  const token = getToken();
  return token ? { authorization: `Bearer ${token}` } : {};
}

function httpUrl(): string {
  return new URL(GRAPHQL_PATH, window.location.href).href;
}

/**
 * Runs one query or mutation; resolves to `data` or rejects with an ApiError. A typed document
 * (queries.ts) gives `TData` and the variables' type; a plain string needs `TData` spelled out.
 */
export async function request<TData = unknown, TVariables = Record<string, unknown>>(
  document: TypedString<TData, TVariables> | string,
  variables: TVariables = {} as TVariables,
  signal?: AbortSignal,
): Promise<TData> {
  let response: Response;
  try {
    response = await fetch(httpUrl(), {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...authHeaders() },
      body: JSON.stringify({ query: document, variables }),
      signal,
    });
  } catch (error) {
    if (signal?.aborted) throw error;
    throw new ApiError([{ message: `Cannot reach the API at ${GRAPHQL_PATH}: ${String((error as Error).message ?? error)}`, code: 'NETWORK_ERROR' }]);
  }
  let body: { data?: TData | null; errors?: RawError[] };
  try {
    body = (await response.json()) as typeof body;
  } catch {
    throw new ApiError([{ message: `The API answered HTTP ${response.status} ${response.statusText} without a JSON body`, code: `HTTP_${response.status}` }]);
  }
  if (body.errors?.length) throw new ApiError(toEntries(body.errors), body.data ?? null);
  if (!body.data) throw new ApiError([{ message: `The API answered HTTP ${response.status} without data`, code: `HTTP_${response.status}` }]);
  return body.data;
}

function subscriptionClient(): Client {
  if (!wsClient) {
    const url = new URL(GRAPHQL_PATH, window.location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    wsClient = createClient({ url: url.href, lazy: true, retryAttempts: 5, connectionParams: () => authHeaders() });
  }
  return wsClient;
}

export interface SubscriptionHandlers<TData> {
  next(data: TData): void;
  error(error: ApiError): void;
  complete?(): void;
}

/** Starts a subscription over graphql-ws; returns the function that stops it. */
export function subscribe<TData>(document: string, variables: Record<string, unknown>, handlers: SubscriptionHandlers<TData>): () => void {
  return subscriptionClient().subscribe<TData>(
    { query: document, variables },
    {
      next(result) {
        if (result.errors?.length) handlers.error(new ApiError(toEntries(result.errors as RawError[]), result.data ?? null));
        else if (result.data) handlers.next(result.data as TData);
      },
      error(error) {
        if (Array.isArray(error)) handlers.error(new ApiError(toEntries(error as RawError[])));
        else if (error instanceof CloseEvent) handlers.error(new ApiError([{ message: `Subscription connection closed (${error.code}${error.reason ? `: ${error.reason}` : ''})`, code: 'WEBSOCKET_CLOSED' }]));
        else handlers.error(new ApiError([{ message: `Subscription failed: ${String((error as Error)?.message ?? error)}`, code: 'WEBSOCKET_ERROR' }]));
      },
      complete() {
        handlers.complete?.();
      },
    },
  );
}

/** Any thrown value as an ApiError (for showing it). */
export function asApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  return new ApiError([{ message: String((error as Error)?.message ?? error), code: 'CLIENT_ERROR' }]);
}
