/**
 * Streaming bulk import of structure files (CLI `ionsieve import`, seeding).
 *
 * Files are parsed one at a time and written in batches: each batch is one transaction holding one
 * multi-row INSERT … ON CONFLICT DO NOTHING, so a pool of any size never sits in memory and costs
 * one round trip per batch, not per structure. A file (or JSONL line) that fails to parse is
 * reported in `failed` and the import goes on; the `addMaterials` mutation, by contrast, is
 * all-or-nothing.
 */
import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseCsv } from '../csv.js';
import { cifStructureBlocks, type StructureFormat } from '../structure/index.js';
import { inTransaction, type Db } from '../store/database.js';
import type { MaterialProperty, NewMaterialRow } from '../store/material.table.js';
import { queueEmbeddingOfNewMaterials } from './embedding-jobs.js';
import { checkPropertyName, propertiesOf } from './properties.js';
import { insertOrFindMaterials, structureTextMaterialRow, type MaterialProvenance } from './material-rows.js';
import { optimadeListOf, optimadeProvenance } from './optimade-entries.js';

export interface ImportOptions {
  /** Structures per transaction. Default 500. */
  batchSize?: number;
  /** Default 2000 (as in Config). */
  maxSites?: number;
  /** Default 5 MiB (as in Config). */
  maxTextBytes?: number;
  /** Store structures whose density is outside [0.1, 25] g/cm³ (refused by default, reported in `failed`). */
  allowUnusualDensity?: boolean;
  /** Source recorded on every imported material, unless a JSON record names its own. */
  source?: string | null;
  actor?: string | null;
  /** Called after every record (structure parsed or failed) and after every batch write. */
  onProgress?: (progress: ImportProgress) => void;
  /**
   * Queue the embedding of the new materials under the active model (queueEmbeddingOfNewMaterials)
   * in the transaction of the last batch, when the import added any. Default true.
   */
  queueEmbedding?: boolean;
}

export interface ImportProgress {
  /** Files opened so far. */
  files: number;
  /** Bytes of input read so far (for a progress bar against the total from `scanStructureFiles`). */
  bytes: number;
  /** Structures written as new materials. */
  ok: number;
  failed: number;
  /** Structures already stored (same hash or same source record), not written again. */
  duplicates: number;
  /** Structures parsed and waiting in the current batch. */
  pending: number;
  file: string;
}

export interface ImportFailure {
  /** The file, with ':<line>' for a JSONL line or '#<index>' for an element of a JSON array. */
  file: string;
  error: string;
}

export interface ImportResult {
  files: number;
  ok: number;
  failed: ImportFailure[];
  duplicates: number;
  /** Whether the last batch's transaction queued an embed_materials job. */
  embeddingQueued: boolean;
}

const DEFAULT_BATCH_SIZE = 500;
const DEFAULT_MAX_SITES = 2000;
const DEFAULT_MAX_TEXT_BYTES = 5 * 1024 * 1024;

export type StructureFileKind = { format: StructureFormat; jsonLines: boolean };

/**
 * The format of a structure file from its name: .cif; .vasp, POSCAR*, CONTCAR*; .json; .jsonl
 * (one JSON structure per line, our pool format). Undefined for anything else.
 */
export function structureFileKind(path: string): StructureFileKind | undefined {
  const name = basename(path);
  const ext = extname(name).toLowerCase();
  if (ext === '.cif') return { format: 'CIF', jsonLines: false };
  if (ext === '.vasp' || /^(POSCAR|CONTCAR)/i.test(name)) return { format: 'POSCAR', jsonLines: false };
  if (ext === '.json') return { format: 'JSON', jsonLines: false };
  if (ext === '.jsonl') return { format: 'JSON', jsonLines: true };
  return undefined;
}

/**
 * Yields the files to import: each path given as a file (whatever its name), and, inside each
 * directory, recursively, the files whose name has a structure format. Sorted per directory, so an
 * import is reproducible.
 */
export async function* walkStructureFiles(paths: readonly string[]): AsyncGenerator<string> {
  for (const path of paths) {
    const info = await stat(path);
    if (info.isDirectory()) yield* walkDirectory(path);
    else yield path;
  }
}

async function* walkDirectory(dir: string): AsyncGenerator<string> {
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walkDirectory(path);
    else if (entry.isFile() && structureFileKind(path)) yield path;
  }
}

/** Counts the files and bytes an import of `paths` will read (names and sizes only). */
export async function scanStructureFiles(paths: readonly string[]): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  for await (const path of walkStructureFiles(paths)) {
    files++;
    bytes += (await stat(path)).size;
  }
  return { files, bytes };
}

/** The file name of a property table beside (or above) structure files. */
export const PROPERTY_TABLE = 'properties.csv';

/** A property table's rows by key (a file name or its stem), with the table's path for messages. */
interface PropertyTable {
  path: string;
  rows: Map<string, { line: number; properties: Record<string, MaterialProperty> }>;
  used: Set<string>;
}

/**
 * Reads a `properties.csv`: a key column `file` (a structure file's name, or its name without the
 * extension) or `id` (the name without extension, as the shipped pool's table has it), and one
 * column per property, headed by its name, optionally with a unit in brackets (`_my_gap [eV]`);
 * `property_source` or `source` gives a row's source (else the table's path). Empty cells give no
 * property. Throws with the line for a bad header or value.
 */
export async function readPropertyTable(path: string, actor: string | null): Promise<PropertyTable> {
  const text = await readFile(path, 'utf8');
  const rows = parseCsv(text);
  const header = Object.keys(rows[0] ?? {});
  const key = header.includes('file') ? 'file' : header.includes('id') ? 'id' : null;
  if (key === null) throw new Error(`${path}: needs a "file" (or "id") column naming the structure files`);
  const columns = header
    .filter((h) => h !== key && h !== 'property_source' && h !== 'source' && h !== 'source_id')
    .map((h) => {
      const match = /^\s*([^[\]]+?)\s*(?:\[([^\]]+)\])?\s*$/.exec(h);
      const name = checkPropertyName(match?.[1], `${path}: column ${JSON.stringify(h)}`);
      return { header: h, name, unit: match?.[2]?.trim() ?? null };
    });
  const table: PropertyTable = { path, rows: new Map(), used: new Set() };
  rows.forEach((row, i) => {
    const line = i + 2;
    const id = (row[key] ?? '').trim();
    if (id === '') return;
    const source = (row.property_source ?? row.source ?? '').trim() || `${basename(path)} line ${line}`;
    const inputs = columns.flatMap((c) => {
      const cell = (row[c.header] ?? '').trim();
      if (cell === '') return [];
      const value = Number(cell);
      if (!Number.isFinite(value)) throw new Error(`${path} line ${line}: ${c.header} is ${JSON.stringify(cell.slice(0, 40))}, not a number`);
      return [{ name: c.name, value, unit: c.unit, source }];
    });
    try {
      table.rows.set(id, { line, properties: propertiesOf(inputs, actor, `${path} line ${line}`) });
    } catch (error) {
      throw new Error(errorMessage(error));
    }
  });
  return table;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Provenance carried by a JSON record (our pool format: id, formula, source, source_id). */
function jsonRecordProvenance(text: string, fallbackName: string, opts: ImportOptions): MaterialProvenance {
  let record: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) record = parsed as Record<string, unknown>;
  } catch {
    // The structure parser reports the syntax error.
  }
  const str = (value: unknown) => (typeof value === 'string' && value.trim() !== '' ? value : undefined);
  const source = str(record.source) ?? opts.source ?? null;
  return {
    name: str(record.name) ?? str(record.formula) ?? fallbackName,
    source,
    // The record's own id identifies it within its dataset (as `ionsieve seed` records it).
    sourceId: source ? (str(record.id) ?? str(record.source_id) ?? null) : null,
    createdBy: opts.actor ?? null,
  };
}

/**
 * Imports structure files and directories (recursively), streaming. Returns counts and the
 * per-file failures; throws only for I/O or database errors.
 */
export async function importFiles(db: Db, paths: readonly string[], opts: ImportOptions = {}): Promise<ImportResult> {
  const batchSize = Math.max(1, opts.batchSize ?? DEFAULT_BATCH_SIZE);
  const limits = {
    maxSites: opts.maxSites ?? DEFAULT_MAX_SITES,
    maxTextBytes: opts.maxTextBytes ?? DEFAULT_MAX_TEXT_BYTES,
    allowUnusualDensity: opts.allowUnusualDensity ?? false,
  };
  const failed: ImportFailure[] = [];
  const progress: ImportProgress = { files: 0, bytes: 0, ok: 0, failed: 0, duplicates: 0, pending: 0, file: '' };
  let batch: NewMaterialRow[] = [];
  // One batch may be in the database while the next is parsed (parsing is CPU-bound here, the
  // write is I/O-bound on PostgreSQL).
  let inFlight: Promise<void> = Promise.resolve();

  const report = () => opts.onProgress?.({ ...progress, failed: failed.length });
  // Property tables (properties.csv) of the folders imported: a file takes the row of the nearest
  // table in its folder or a folder above it, up to the folder given.
  const tables = new Map<string, PropertyTable>();
  const roots: string[] = [];
  for (const path of paths) {
    if (!(await stat(path)).isDirectory()) continue;
    roots.push(resolve(path));
    for await (const csv of walkPropertyTables(path)) {
      try {
        tables.set(resolve(dirname(csv)), await readPropertyTable(csv, opts.actor ?? null));
      } catch (error) {
        failed.push({ file: csv, error: errorMessage(error) });
      }
    }
  }
  const propertiesFor = (file: string): Record<string, MaterialProperty> | undefined => {
    const name = basename(file);
    const stem = basename(file, extname(file));
    for (let dir = resolve(dirname(file)); ; dir = dirname(dir)) {
      const table = tables.get(dir);
      const key = table && (table.rows.has(name) ? name : table.rows.has(stem) ? stem : undefined);
      if (table && key !== undefined) {
        table.used.add(key);
        return table.rows.get(key)!.properties;
      }
      if (roots.includes(dir) || dirname(dir) === dir) return undefined;
    }
  };
  let embeddingQueued = false;
  /** Writes the waiting batch; the last one (`last`) also queues the embedding job, in its transaction. */
  const flush = async (last = false) => {
    const rows = batch;
    batch = [];
    progress.pending = 0;
    await inFlight;
    inFlight = rows.length === 0 ? Promise.resolve() : write(rows, last);
    // Mark it handled now; the error still surfaces at the next `await inFlight`.
    inFlight.catch(() => {});
  };
  const write = async (rows: NewMaterialRow[], last: boolean) => {
    const { added, queued } = await inTransaction(db, async (tx) => {
      const { inserted } = await insertOrFindMaterials(tx, rows);
      const added = inserted.filter(Boolean).length;
      const queued = last && opts.queueEmbedding !== false && progress.ok + added > 0 && (await queueEmbeddingOfNewMaterials(tx));
      return { added, queued };
    });
    embeddingQueued ||= queued;
    progress.ok += added;
    progress.duplicates += rows.length - added;
    report();
  };
  const addRecord = async (where: string, make: () => NewMaterialRow) => {
    // A full batch is written when the next record comes, so that the last write is never empty:
    // it carries the embedding job.
    if (batch.length >= batchSize) await flush();
    try {
      batch.push(make());
      progress.pending = batch.length;
    } catch (error) {
      failed.push({ file: where, error: errorMessage(error) });
    }
    report();
  };

  for await (const file of walkStructureFiles(paths)) {
    progress.files++;
    progress.file = file;
    const kind = structureFileKind(file);
    const stem = basename(file, extname(file));
    if (!kind) {
      failed.push({ file, error: 'unknown structure format (expected .cif, .vasp, POSCAR, CONTCAR, .json or .jsonl)' });
      progress.bytes += (await stat(file)).size;
      report();
      continue;
    }
    if (kind.jsonLines) {
      const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
      let lineNumber = 0;
      for await (const line of lines) {
        lineNumber++;
        progress.bytes += Buffer.byteLength(line, 'utf8') + 1;
        if (line.trim() === '') continue;
        await addRecord(`${file}:${lineNumber}`, () =>
          structureTextMaterialRow(line, 'JSON', limits, jsonRecordProvenance(line, `${stem}:${lineNumber}`, opts)),
        );
      }
      continue;
    }
    let text: string;
    try {
      const size = (await stat(file)).size;
      progress.bytes += size;
      if (size > limits.maxTextBytes) throw new Error(`file is ${size} bytes, more than the limit of ${limits.maxTextBytes}`);
      text = await readFile(file, 'utf8');
    } catch (error) {
      failed.push({ file, error: errorMessage(error) });
      report();
      continue;
    }
    const tableProperties = tables.size > 0 ? propertiesFor(file) : undefined;
    const provenance: MaterialProvenance = {
      ...(kind.format === 'JSON' ? jsonRecordProvenance(text, stem, opts) : { name: stem, source: opts.source ?? null, createdBy: opts.actor ?? null }),
      ...(tableProperties ? { properties: tableProperties } : {}),
    };
    // A CIF with several structures: each data block is its own material (never only the first).
    let blocks: { name: string; text: string }[] = [];
    if (kind.format === 'CIF') {
      try {
        blocks = cifStructureBlocks(text);
      } catch {
        // Unreadable: the parse below reports why.
      }
    }
    // An OPTIMADE list response (a saved page of /v1/structures): one material per entry.
    let list: ReturnType<typeof optimadeListOf> = null;
    if (kind.format === 'JSON') {
      try {
        list = optimadeListOf(text, limits);
      } catch (error) {
        failed.push({ file, error: errorMessage(error) });
        report();
        continue;
      }
    }
    if (list) {
      for (const [i, entry] of list.entries.entries()) {
        const given = { source: opts.source ?? null, createdBy: opts.actor ?? null };
        await addRecord(`${file}#data[${i}]`, () => structureTextMaterialRow(entry.text, 'JSON', limits, optimadeProvenance(entry, list!.provider, given)));
      }
      continue;
    }
    if (blocks.length > 1) {
      for (const block of blocks) {
        await addRecord(`${file}#data_${block.name}`, () =>
          structureTextMaterialRow(block.text, 'CIF', limits, { ...provenance, name: `${stem}:${block.name}` }),
        );
      }
      continue;
    }
    await addRecord(file, () => structureTextMaterialRow(text, kind.format, limits, provenance));
  }
  await flush(true);
  await inFlight;
  // A row that names no imported file is most likely a typo: say so.
  for (const table of tables.values()) {
    for (const [key, row] of table.rows) {
      if (!table.used.has(key)) failed.push({ file: `${table.path}:${row.line}`, error: `no structure file named ${JSON.stringify(key)} in its folder` });
    }
  }
  report();
  return { files: progress.files, ok: progress.ok, failed, duplicates: progress.duplicates, embeddingQueued };
}

async function* walkPropertyTables(dir: string): AsyncGenerator<string> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walkPropertyTables(path);
    else if (entry.isFile() && entry.name === PROPERTY_TABLE) yield path;
  }
}
