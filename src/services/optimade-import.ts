/**
 * OPTIMADE import: a job (`import_optimade`) that pages through `BASE_URL/v1/structures?filter=…`
 * (`page_limit`, following `links.next`) and stores every structures entry as a material, with its
 * provenance (source `optimade:<provider prefix>`, `sourceId` = the entry id, a link to its page)
 * and its numeric provider-specific attributes as properties (units from `/v1/info/structures`).
 *
 * - **One transaction per page**: the page's materials and the job's progress — its counts and the
 *   URL of the next page — commit together, so an interrupted import (worker killed, provider down
 *   past its retries, `--resume`) continues at the first page not committed, and never stores a
 *   page twice. Entries already stored (same provider record, or same structure) are counted as
 *   duplicates, so a second import of the same filter writes nothing.
 * - **Bad entries are skipped and reported** (`skipped`, the first MAX_REPORTED_SKIPS with id and
 *   reason: unknown species, missing cell, absurd density …); the import goes on.
 * - **Outgoing requests** go only to hosts on `IONSIEVE_OPTIMADE_HOSTS` (optimade-client.ts), checked
 *   for the base URL when the job is created, and for every `links.next` and redirect when followed.
 * - The next page is requested while the current one is parsed and written.
 */
import { BadInputError } from '../errors.js';
import { claimJobById, enqueueJob, type JobRecord, updateJobProgress } from '../jobs/queue.js';
import { optimadeProviderPrefix, readOptimadeEntry, type OptimadeListEntry } from '../structure/index.js';
import { inTransaction, type Db } from '../store/database.js';
import { findMaterialKeysBySourceRecords } from '../store/material.repository.js';
import type { NewMaterialRow } from '../store/material.table.js';
import { checkOptimadeUrl, fetchOptimadeJson, OptimadeResponseError, type FetchJsonOptions } from './optimade-client.js';
import { queueEmbeddingOfNewMaterials } from './embedding-jobs.js';
import { insertOrFindMaterials, structureTextMaterialRow } from './material-rows.js';
import { optimadeProvenance } from './optimade-entries.js';
import { providerUrl } from './provenance.js';

export const IMPORT_OPTIMADE_TASK = 'import_optimade';

/** Entries per page asked of the provider (`page_limit`); providers may return fewer. */
export const DEFAULT_PAGE_LIMIT = 100;
export const MAX_PAGE_LIMIT = 1000;
/** Longest filter string accepted. */
export const MAX_FILTER_CHARS = 10_000;
/** Skipped entries listed one by one in the progress (the rest are counted). */
export const MAX_REPORTED_SKIPS = 100;
/** Attempts of an import job before it fails for good (each resumes at its cursor). */
const IMPORT_MAX_ATTEMPTS = 5;

export interface ImportOptimadeInput {
  baseUrl: string;
  /** An OPTIMADE filter string, passed to the provider as is; null imports every structure. */
  filter?: string | null;
  /** Stop after this many entries (skipped ones included); null: all. */
  maxEntries?: number | null;
  pageLimit?: number | null;
  allowUnusualDensity?: boolean | null;
}

export interface ImportOptimadePayload {
  baseUrl: string;
  filter: string | null;
  maxEntries: number | null;
  pageLimit: number;
  allowUnusualDensity: boolean;
  /** Recorded as created_by of the materials. */
  actor: string | null;
}

export interface SkippedEntry {
  /** The entry's id at the provider, when it has one. */
  id: string | null;
  /** 1-based page and 0-based position on it. */
  page: number;
  index: number;
  reason: string;
}

/** What an import job records after every page (job.progress), and its result. */
export interface OptimadeImportProgress {
  phase: 'RUNNING' | 'DONE';
  /** The next page to fetch; null once the last page is stored. The resumable cursor. */
  nextUrl: string | null;
  /** Pages stored. */
  pages: number;
  /** Entries read (stored, duplicate or skipped). */
  received: number;
  /** Entries stored as new materials. */
  imported: number;
  /** Entries already stored (same provider record or same structure): not written again. */
  duplicates: number;
  skipped: number;
  /** The first MAX_REPORTED_SKIPS skipped entries, with why. */
  skippedEntries: SkippedEntry[];
  /** `meta.data_returned` of the first page: how many entries the filter matches at the provider. */
  dataReturned: number | null;
  /** `meta.provider.prefix` (e.g. "mp"), or the host when the provider gives none. */
  provider: string | null;
  /** Requests retried (429, 5xx, network). */
  retries: number;
}

export function emptyImportProgress(): OptimadeImportProgress {
  return { phase: 'RUNNING', nextUrl: null, pages: 0, received: 0, imported: 0, duplicates: 0, skipped: 0, skippedEntries: [], dataReturned: null, provider: null, retries: 0 };
}

/**
 * Checks an import's arguments (BadInputError naming the field: a URL that is not http(s), a host
 * not on the allow-list, a bad page size) and returns the job payload.
 */
export function checkImportOptimadeInput(input: ImportOptimadeInput, allowedHosts: readonly string[], actor: string | null): ImportOptimadePayload {
  if (typeof input?.baseUrl !== 'string' || input.baseUrl.trim() === '') throw new BadInputError('baseUrl: give the provider\'s OPTIMADE base URL, e.g. https://optimade.materialsproject.org', { field: 'baseUrl' });
  const url = checkOptimadeUrl(input.baseUrl.trim(), allowedHosts, 'baseUrl');
  if (url.search !== '' || url.hash !== '') throw new BadInputError('baseUrl: give the base URL without a query or fragment (the filter goes in filter)', { field: 'baseUrl' });
  let filter: string | null = null;
  if (input.filter !== undefined && input.filter !== null) {
    if (typeof input.filter !== 'string') throw new BadInputError('filter must be a string', { field: 'filter' });
    if (input.filter.length > MAX_FILTER_CHARS) throw new BadInputError(`filter is longer than ${MAX_FILTER_CHARS} characters`, { field: 'filter' });
    if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/.test(input.filter)) throw new BadInputError('filter contains a control character', { field: 'filter' });
    filter = input.filter.trim() === '' ? null : input.filter.trim();
  }
  const positive = (value: number | null | undefined, field: string, max: number) => {
    if (value === undefined || value === null) return null;
    if (!Number.isInteger(value) || value < 1 || value > max) throw new BadInputError(`${field} must be an integer in [1, ${max}], got ${value}`, { field });
    return value;
  };
  return {
    baseUrl: url.toString().replace(/\/+$/, '').replace(/\/v1$/, ''),
    filter,
    maxEntries: positive(input.maxEntries, 'maxEntries', Number.MAX_SAFE_INTEGER),
    pageLimit: positive(input.pageLimit, 'pageLimit', MAX_PAGE_LIMIT) ?? DEFAULT_PAGE_LIMIT,
    allowUnusualDensity: input.allowUnusualDensity === true,
    actor,
  };
}

/** `BASE_URL/v1/structures?filter=…&page_limit=…` */
export function firstPageUrl(payload: ImportOptimadePayload): string {
  const url = new URL(`${payload.baseUrl}/v1/structures`);
  if (payload.filter !== null) url.searchParams.set('filter', payload.filter);
  url.searchParams.set('page_limit', String(payload.pageLimit));
  return url.toString();
}

/** Queues an import job (the API's importOptimade, or the CLI before it runs the job itself). */
export async function startOptimadeImport(
  db: Db,
  input: ImportOptimadeInput,
  opts: {
    allowedHosts: readonly string[];
    actor: string | null;
    /** The caller runs the job itself (the CLI): it is created already claimed by this worker. */
    runHere?: { workerId: string; leaseMs: number };
  },
): Promise<JobRecord<ImportOptimadePayload>> {
  const payload = checkImportOptimadeInput(input, opts.allowedHosts, opts.actor);
  return enqueueJob(db, IMPORT_OPTIMADE_TASK, payload, { maxAttempts: IMPORT_MAX_ATTEMPTS, claimedBy: opts.runHere });
}

/** Takes a given import job to run it here (`ionsieve import --optimade --resume ID`). */
export function claimOptimadeImport(db: Db, jobId: string, workerId: string, leaseMs: number) {
  return claimJobById<ImportOptimadePayload>(db, jobId, IMPORT_OPTIMADE_TASK, workerId, leaseMs);
}

export interface RunOptimadeImportOptions {
  /** The job this run records its progress on, and the worker holding it. */
  jobId: string;
  workerId: string;
  allowedHosts: readonly string[];
  maxSites: number;
  maxTextBytes: number;
  signal?: AbortSignal;
  /** Retry timing and limits of the HTTP client (tests shorten them). */
  http?: Omit<FetchJsonOptions, 'allowedHosts' | 'signal' | 'onRetry'>;
  /** After each stored page. */
  onProgress?: (progress: OptimadeImportProgress) => void;
  onRetry?: FetchJsonOptions['onRetry'];
  /** After the commit that queued the embedding of the new materials (see runOptimadeImport). */
  onEmbeddingQueued?: () => void;
}

/** The job lost its lease (another worker took it over, or it was cancelled): this run stops. */
export class ImportJobLostError extends Error {}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** `links.next` of a JSON:API document: a URL string or `{href}`; null at the last page. */
function nextLink(doc: Record<string, unknown>): string | null {
  const links = isObject(doc.links) ? doc.links : null;
  const next = links?.next;
  if (typeof next === 'string' && next !== '') return next;
  if (isObject(next) && typeof next.href === 'string' && next.href !== '') return next.href;
  return null;
}

/** Units of the provider's structure properties (`/v1/info/structures`); {} when it has none. */
async function propertyUnits(baseUrl: string, fetchOpts: FetchJsonOptions): Promise<Record<string, string>> {
  try {
    const { body } = await fetchOptimadeJson(`${baseUrl}/v1/info/structures`, { ...fetchOpts, maxRetries: Math.min(fetchOpts.maxRetries ?? 5, 2) });
    const properties = isObject(body) && isObject(body.data) && isObject(body.data.properties) ? body.data.properties : {};
    const units: Record<string, string> = {};
    for (const [name, described] of Object.entries(properties)) {
      if (isObject(described) && typeof described.unit === 'string' && described.unit.trim() !== '') units[name] = described.unit.trim();
    }
    return units;
  } catch (error) {
    if (fetchOpts.signal?.aborted) throw error;
    // Optional: without it, properties are stored without a unit.
    return {};
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Runs (or resumes, from `resumeFrom`) an import: fetches page after page, stores each in one
 * transaction with the job's progress, and returns the final progress. The last page's transaction
 * also queues the embedding of the new materials under the active model (with its job key), when
 * the import added any: the materials and their job commit together. Throws BadInputError or
 * OptimadeResponseError for what retrying cannot fix (a host not on the list, a 4xx answer),
 * OptimadeUnavailableError when the provider stayed unreachable (the job is retried later from its
 * cursor), ImportJobLostError when the job is no longer this worker's.
 */
export async function runOptimadeImport(
  db: Db,
  payload: ImportOptimadePayload,
  resumeFrom: OptimadeImportProgress | null,
  opts: RunOptimadeImportOptions,
): Promise<OptimadeImportProgress> {
  const progress: OptimadeImportProgress = resumeFrom ? { ...emptyImportProgress(), ...resumeFrom, phase: 'RUNNING' } : emptyImportProgress();
  if (resumeFrom?.phase === 'DONE') return { ...progress, phase: 'DONE' };
  const fetchOpts: FetchJsonOptions = {
    ...opts.http,
    allowedHosts: opts.allowedHosts,
    signal: opts.signal,
    onRetry: (info) => {
      progress.retries++;
      opts.onRetry?.(info);
    },
  };
  const base = checkOptimadeUrl(payload.baseUrl, opts.allowedHosts, 'baseUrl');
  const units = await propertyUnits(payload.baseUrl, fetchOpts);
  const limits = { maxSites: opts.maxSites, maxTextBytes: opts.maxTextBytes, allowUnusualDensity: payload.allowUnusualDensity };
  const remaining = () => (payload.maxEntries === null ? Infinity : payload.maxEntries - progress.received);

  const fetchPage = (url: string) => {
    const promise = fetchOptimadeJson(url, fetchOpts);
    // Handled where it is awaited; this only keeps an abandoned prefetch from being "unhandled".
    promise.catch(() => {});
    return promise;
  };
  const startUrl = resumeFrom ? resumeFrom.nextUrl : firstPageUrl(payload);
  let pending = startUrl !== null && remaining() > 0 ? fetchPage(startUrl) : null;
  let pagesStored = 0;
  while (pending) {
    const { url, body } = await pending;
    pending = null;
    if (!isObject(body) || !Array.isArray(body.data)) {
      throw new OptimadeResponseError(`${url}: not an OPTIMADE list response (no data array)`);
    }
    const pageNumber = progress.pages + 1;
    if (progress.pages === 0 && !resumeFrom) {
      const meta = isObject(body.meta) ? body.meta : {};
      progress.dataReturned = typeof meta.data_returned === 'number' ? meta.data_returned : null;
    }
    progress.provider ??= optimadeProviderPrefix(body) ?? base.host;
    const entries = (body.data as unknown[]).slice(0, remaining());
    // Checked before it is requested: a provider's link to a host not on the list ends the import
    // after this page (the error names it).
    const next = nextLink(body);
    let refusedNext: unknown = null;
    let nextUrl: string | null = null;
    if (next !== null && remaining() > entries.length) {
      try {
        nextUrl = checkOptimadeUrl(new URL(next, url).toString(), opts.allowedHosts, `links.next of page ${pageNumber}`).toString();
      } catch (error) {
        refusedNext = error;
      }
    }
    if (nextUrl !== null) pending = fetchPage(nextUrl);

    const { rows, duplicates } = await pageRows(db, entries, pageNumber, progress, payload, limits, units, base);
    progress.pages = pageNumber;
    progress.received += entries.length;
    progress.duplicates += duplicates;
    progress.nextUrl = nextUrl;
    if (nextUrl === null) progress.phase = 'DONE';
    const queued = await inTransaction(db, async (tx) => {
      const { inserted } = await insertOrFindMaterials(tx, rows);
      const added = inserted.filter(Boolean).length;
      // Counted into a copy: the transaction may still roll back.
      const committed = { ...progress, imported: progress.imported + added, duplicates: progress.duplicates + rows.length - added };
      if (!(await updateJobProgress(tx, opts.jobId, opts.workerId, committed))) {
        throw new ImportJobLostError(`job ${opts.jobId} is no longer held by ${opts.workerId} (cancelled or taken over)`);
      }
      const queued = committed.phase === 'DONE' && committed.imported > 0 && (await queueEmbeddingOfNewMaterials(tx));
      progress.imported = committed.imported;
      progress.duplicates = committed.duplicates;
      return queued;
    });
    pagesStored++;
    if (queued) opts.onEmbeddingQueued?.();
    opts.onProgress?.({ ...progress });
    if (refusedNext) throw refusedNext;
    if (opts.signal?.aborted) throw opts.signal.reason;
  }
  progress.phase = 'DONE';
  progress.nextUrl = null;
  // A resumed import with nothing left to fetch stored no page here: queue for what it added before.
  if (pagesStored === 0 && progress.imported > 0 && (await queueEmbeddingOfNewMaterials(db))) opts.onEmbeddingQueued?.();
  return progress;
}

/**
 * The material rows of one page's entries. Entries whose provider record is already stored are
 * counted as duplicates without being parsed; entries that cannot be stored are added to
 * `progress.skipped` with the reason.
 */
async function pageRows(
  db: Db,
  entries: readonly unknown[],
  pageNumber: number,
  progress: OptimadeImportProgress,
  payload: ImportOptimadePayload,
  limits: { maxSites: number; maxTextBytes: number; allowUnusualDensity: boolean },
  units: Readonly<Record<string, string>>,
  base: URL,
): Promise<{ rows: NewMaterialRow[]; duplicates: number }> {
  const source = `optimade:${progress.provider}`;
  const skipped: SkippedEntry[] = [];
  const skip = (index: number, id: string | null, reason: string) => skipped.push({ id, page: pageNumber, index, reason });
  const read: { index: number; entry: OptimadeListEntry; raw: Record<string, unknown> }[] = [];
  entries.forEach((raw, index) => {
    try {
      const entry = readOptimadeEntry(raw, `data[${index}]`);
      if (entry.id === null) throw new BadInputError('the entry has no id');
      read.push({ index, entry, raw: raw as Record<string, unknown> });
    } catch (error) {
      skip(index, isObject(raw) && typeof raw.id === 'string' ? raw.id : null, errorMessage(error));
    }
  });
  const stored = new Set(
    (await findMaterialKeysBySourceRecords(db, read.map(({ entry }) => ({ source, sourceId: entry.id! })))).map((key) => key.source_id),
  );
  const rows: NewMaterialRow[] = [];
  let duplicates = 0;
  for (const { index, entry, raw } of read) {
    if (stored.has(entry.id)) {
      duplicates++;
      continue;
    }
    try {
      const links = isObject(raw.links) ? raw.links : {};
      const self = typeof links.self === 'string' && /^https?:\/\//.test(links.self) ? links.self : null;
      const sourceUrl = providerUrl(entry.id) ?? self ?? `${base.toString().replace(/\/+$/, '')}/v1/structures/${encodeURIComponent(entry.id!)}`;
      const provenance = optimadeProvenance(entry, progress.provider, { source, sourceUrl, createdBy: payload.actor }, units);
      rows.push(structureTextMaterialRow(entry.text, 'JSON', limits, provenance));
    } catch (error) {
      skip(index, entry.id, errorMessage(error));
    }
  }
  progress.skipped += skipped.length;
  skipped.sort((a, b) => a.index - b.index);
  progress.skippedEntries.push(...skipped.slice(0, Math.max(0, MAX_REPORTED_SKIPS - progress.skippedEntries.length)));
  return { rows, duplicates };
}
