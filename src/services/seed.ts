/**
 * Loads the datasets shipped in data/ (see data/obelix/SOURCE.md and
 * data/candidates/open_li_pool_v1/SOURCE.md):
 * - OBELiX train split: 478 labelled entries, the 254 with a CIF as STRUCTURE materials and the
 *   224 without one as COMPOSITION materials, each with one label (high → FAST, low → POOR:
 *   σ_RT ≥ 1e-4 S/cm) carrying σ_RT, 298.15 K, the DOI and reason 'OBELiX train split';
 * - the open_li_pool_v1 candidate pool: 279 unlabelled structures, each with its provider's record id
 *   as `source_id` (Materials Project ids with a link), the pool's own id as an alias, and the
 *   values of the pool's properties.csv (band gap, energy above hull, formation energy).
 * Idempotent: materials are keyed by (source, source_id) and structure hash, and a label is added
 * only to a material that lacks this seed's label.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inTransaction, type Db } from '../store/database.js';
import { findLabelRowsByMaterialIds, insertLabelRows, refreshCurrentLabelClass } from '../store/label.repository.js';
import {
  addMissingMaterialProperties,
  findMaterialKeysBySourceIds,
  findMaterialKeysBySourceRecords,
  materialExistsWithSourcePrefix,
  updateMaterialProvenance,
} from '../store/material.repository.js';
import type { LabelClass, MaterialProperty, NewMaterialRow } from '../store/material.table.js';
import { propertiesOf } from './properties.js';
import type { NewLabelRow } from '../store/label.table.js';
import { parseCsv } from '../csv.js';
import type { ImportFailure } from './ingest.js';
import { compositionMaterialRow, insertOrFindMaterials, structureTextMaterialRow, type MaterialProvenance } from './material-rows.js';
import { poolRecordId, providerUrl } from './provenance.js';
import { syncScreeningLabels } from './screening.js';

export const OBELIX_DIR = 'obelix';
/** The pool's own name, the `source` of the alias that keeps each row's pool id (e.g. mp20_0042). */
export const CANDIDATE_POOL_NAME = 'open_li_pool_v1';
/** Columns of the pool's properties.csv, stored under these names. */
export const POOL_PROPERTY_COLUMNS = ['band_gap_ev', 'energy_above_hull_ev_per_atom', 'formation_energy_ev_per_atom'] as const;
export const CANDIDATE_POOL_DIR = 'candidates/open_li_pool_v1';
/** Every OBELiX manifest row has a source starting with this. */
export const OBELIX_SOURCE_PREFIX = 'OBELiX';
export const OBELIX_LABEL_REASON = 'OBELiX train split';
/** OBELiX reports room-temperature conductivities; recorded as 25 °C. */
export const ROOM_TEMPERATURE_K = 298.15;

const OBELIX_CLASS: Record<string, LabelClass> = { high: 'FAST', low: 'POOR' };

export interface SeedOptions {
  /** The folder holding obelix/ and candidates/ (Config.seedDir, default 'data'). */
  dataDir: string;
  /** Rows per transaction. Default 500. */
  batchSize?: number;
  maxSites?: number;
  maxTextBytes?: number;
  onProgress?: (progress: SeedProgress) => void;
}

export interface SeedProgress {
  dataset: 'obelix' | 'candidates';
  /** Manifest rows handled in this dataset so far, of `total`. */
  done: number;
  total: number;
}

export interface SeedResult {
  /** Materials newly written, by dataset and kind. */
  obelixStructures: number;
  obelixCompositions: number;
  candidates: number;
  labels: number;
  /** Manifest rows already in the database. */
  alreadyPresent: number;
  /** Rows whose file could not be read or parsed (none for the shipped data). */
  failed: ImportFailure[];
}

/** A manifest row turned into a material row, with the label it gets (if any). */
interface SeedItem {
  where: string;
  row: NewMaterialRow;
  label?: Omit<NewLabelRow, 'material_id'>;
}

/** True once the OBELiX set has been seeded (what `ionsieve start` checks). */
export function isSeeded(db: Db): Promise<boolean> {
  return materialExistsWithSourcePrefix(db, OBELIX_SOURCE_PREFIX);
}

function numberOrNull(text: string | undefined): number | null {
  if (text === undefined || text.trim() === '') return null;
  const value = Number(text);
  return Number.isFinite(value) ? value : null;
}

/** The composition of an OBELiX row without a CIF: `true_composition` if it parses, else `formula`. */
function obelixCompositionRow(entry: Record<string, string>, provenance: Parameters<typeof compositionMaterialRow>[1]) {
  try {
    return compositionMaterialRow(entry.true_composition ?? '', provenance);
  } catch {
    return compositionMaterialRow(entry.formula ?? '', provenance);
  }
}

/**
 * A pool row's provenance: `sourceId` is the provider's record id (the Materials Project id for
 * MP rows, with a link), and the pool's own id stays findable as an alias.
 */
function poolProvenance(entry: Record<string, string>): MaterialProvenance {
  return {
    name: entry.formula,
    source: entry.source,
    sourceId: poolRecordId(entry),
    aliases: [{ name: null, source: CANDIDATE_POOL_NAME, sourceId: entry.id!, createdBy: 'seed', createdAt: new Date().toISOString() }],
  };
}

/**
 * Stores seeded before provenance was kept have the pool's own id (mp20_0042) as `source_id`:
 * they get the provider's id, link and alias here, so a re-seed brings them up to date.
 */
async function upgradePoolProvenance(db: Db, pool: Record<string, string>[]): Promise<void> {
  const byPoolId = new Map(pool.map((entry) => [entry.id!, entry]));
  const legacy = await findMaterialKeysBySourceIds(db, [...byPoolId.keys()]);
  if (legacy.length === 0) return;
  await inTransaction(db, async (tx) => {
    for (const row of legacy) {
      const entry = byPoolId.get(row.source_id!)!;
      if (row.source !== entry.source) continue;
      const provenance = poolProvenance(entry);
      await updateMaterialProvenance(tx, String(row.id), {
        source_id: provenance.sourceId!,
        source_url: providerUrl(provenance.sourceId),
        aliases: JSON.stringify(provenance.aliases),
      });
    }
  });
}

/** The pool's property table (properties.csv; see its SOURCE.md), by pool id; empty cells give no property. */
async function readPoolProperties(poolDir: string): Promise<Map<string, Record<string, MaterialProperty>>> {
  let text: string;
  try {
    text = await readFile(join(poolDir, 'properties.csv'), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw error;
  }
  const out = new Map<string, Record<string, MaterialProperty>>();
  for (const row of parseCsv(text)) {
    const inputs = POOL_PROPERTY_COLUMNS.flatMap((name) =>
      row[name] !== undefined && row[name]!.trim() !== '' ? [{ name, value: Number(row[name]), source: row.property_source ?? null }] : [],
    );
    out.set(row.id!, propertiesOf(inputs, 'seed', `properties.csv ${row.id}`));
  }
  return out;
}

async function writeBatch(db: Db, items: SeedItem[]): Promise<{ inserted: boolean[]; labels: number }> {
  return inTransaction(db, async (tx) => {
    const { ids, inserted } = await insertOrFindMaterials(
      tx,
      items.map((item) => item.row),
    );
    // A material seeded before (or imported by hand) may still lack this seed's label; one that
    // has it, even retracted by a curator since, does not get it again.
    const existing = await findLabelRowsByMaterialIds(tx, [...new Set(ids)]);
    const hasSeedLabel = new Set(
      existing.filter((l) => l.reason === OBELIX_LABEL_REASON).map((l) => `${l.material_id}|${l.source}`),
    );
    const labels: NewLabelRow[] = [];
    items.forEach((item, k) => {
      if (!item.label) return;
      const key = `${ids[k]}|${item.label.source}`;
      if (hasSeedLabel.has(key)) return;
      hasSeedLabel.add(key);
      labels.push({ ...item.label, material_id: ids[k]! });
    });
    await insertLabelRows(tx, labels);
    const labelledIds = [...new Set(labels.map((l) => String(l.material_id)))];
    await refreshCurrentLabelClass(tx, labelledIds);
    // Models already screening keep exact rankings: the new references join them in this
    // transaction, as a curator's label would (a no-op when no model has stored scores yet).
    if (labelledIds.length > 0) await syncScreeningLabels(tx, { materialIds: labelledIds });
    return { inserted, labels: labels.length };
  });
}

/** Seeds both datasets; safe to run again (adds only what is missing). */
export async function seed(db: Db, opts: SeedOptions): Promise<SeedResult> {
  const batchSize = Math.max(1, opts.batchSize ?? 500);
  const limits = { maxSites: opts.maxSites ?? 2000, maxTextBytes: opts.maxTextBytes ?? 5 * 1024 * 1024 };
  const result: SeedResult = {
    obelixStructures: 0,
    obelixCompositions: 0,
    candidates: 0,
    labels: 0,
    alreadyPresent: 0,
    failed: [],
  };

  const run = async (
    dataset: SeedProgress['dataset'],
    dir: string,
    entries: Record<string, string>[],
    toItem: (entry: Record<string, string>) => Promise<SeedItem>,
  ) => {
    let batch: SeedItem[] = [];
    let done = 0;
    const flush = async () => {
      if (batch.length === 0) return;
      const { inserted, labels } = await writeBatch(db, batch);
      result.labels += labels;
      batch.forEach((item, k) => {
        if (!inserted[k]) result.alreadyPresent++;
        else if (dataset === 'candidates') result.candidates++;
        else if (item.row.kind === 'STRUCTURE') result.obelixStructures++;
        else result.obelixCompositions++;
      });
      done += batch.length;
      batch = [];
      opts.onProgress?.({ dataset, done, total: entries.length });
    };
    for (const entry of entries) {
      try {
        batch.push(await toItem(entry));
      } catch (error) {
        done++;
        result.failed.push({ file: join(dir, entry.cif_path || entry.id || '?'), error: (error as Error).message });
      }
      if (batch.length >= batchSize) await flush();
    }
    await flush();
  };

  const obelixDir = join(opts.dataDir, OBELIX_DIR);
  const obelix = parseCsv(await readFile(join(obelixDir, 'manifest.csv'), 'utf8')).filter((e) => e.label! in OBELIX_CLASS);
  await run('obelix', obelixDir, obelix, async (entry) => {
    const provenance = { name: entry.formula, source: entry.source, sourceId: entry.id, family: entry.family };
    const row =
      entry.has_structure === 'True' && entry.cif_path
        ? structureTextMaterialRow(await readFile(join(obelixDir, entry.cif_path), 'utf8'), 'CIF', limits, provenance)
        : obelixCompositionRow(entry, provenance);
    return {
      where: entry.id!,
      row,
      label: {
        class: OBELIX_CLASS[entry.label!]!,
        conductivity_s_per_cm: numberOrNull(entry.sigma_rt_S_per_cm),
        temperature_k: ROOM_TEMPERATURE_K,
        source: entry.doi ? `doi:${entry.doi}` : null,
        reason: OBELIX_LABEL_REASON,
        created_by: 'seed',
      },
    };
  });

  const poolDir = join(opts.dataDir, CANDIDATE_POOL_DIR);
  const pool = parseCsv(await readFile(join(poolDir, 'manifest.csv'), 'utf8'));
  const properties = await readPoolProperties(poolDir);
  await upgradePoolProvenance(db, pool);
  await run('candidates', poolDir, pool, async (entry) => ({
    where: entry.id!,
    row: structureTextMaterialRow(await readFile(join(poolDir, 'cifs', `${entry.id}.cif`), 'utf8'), 'CIF', limits, {
      ...poolProvenance(entry),
      properties: properties.get(entry.id!) ?? {},
    }),
  }));
  // Rows stored before (or seeded before properties existed) get the values they lack.
  const stored = await findMaterialKeysBySourceRecords(
    db,
    pool.map((entry) => ({ source: entry.source!, sourceId: poolRecordId(entry) })),
  );
  const idOf = new Map(stored.map((row) => [`${row.source}\u0000${row.source_id}`, String(row.id)]));
  await addMissingMaterialProperties(
    db,
    pool.flatMap((entry) => {
      const id = idOf.get(`${entry.source}\u0000${poolRecordId(entry)}`);
      const values = properties.get(entry.id!);
      return id && values ? [{ id, properties: values }] : [];
    }),
  );
  return result;
}
