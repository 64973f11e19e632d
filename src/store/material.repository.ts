/**
 * Queries on `material` (no logic). `db` may be a transaction.
 */
import { sql, type RawBuilder } from 'kysely';
import type { Db } from './database.js';
import type { LabelClass, MaterialAlias, MaterialKind, MaterialRow, NewMaterialRow } from './material.table.js';

/**
 * A boolean filter over columns, from an OPTIMADE filter string (services/optimade-filter.ts).
 * Each leaf is false (never null) where its column or property is missing, so NOT keeps it.
 */
export type FilterExpression =
  | { op: 'and' | 'or'; args: FilterExpression[] }
  | { op: 'not'; arg: FilterExpression }
  | { op: 'elements'; mode: 'all' | 'any' | 'only'; elements: string[] }
  | { op: 'compare'; column: 'nelements' | 'nsites'; cmp: '<' | '<=' | '>' | '>=' | '=' | '!='; value: number }
  | { op: 'property'; name: string; cmp: '<' | '<=' | '>' | '>=' | '=' | '!='; value: number }
  | { op: 'formula'; column: 'reduced_formula' | 'formula'; formula: string };

const COMPARISONS = { '<': '<', '<=': '<=', '>': '>', '>=': '>=', '=': '=', '!=': '<>' } as const;

function expressionCondition(e: FilterExpression, col: (name: string) => RawBuilder<unknown>): RawBuilder<boolean> {
  switch (e.op) {
    case 'and':
    case 'or':
      return sql<boolean>`(${sql.join(e.args.map((a) => expressionCondition(a, col)), sql.raw(e.op === 'and' ? ' and ' : ' or '))})`;
    case 'not':
      return sql<boolean>`(not ${expressionCondition(e.arg, col)})`;
    case 'elements': {
      const op = e.mode === 'all' ? '@>' : e.mode === 'any' ? '&&' : '<@';
      return sql<boolean>`(${col('elements')} ${sql.raw(op)} ${sql.val(e.elements)}::text[])`;
    }
    case 'compare':
      return sql<boolean>`coalesce(${col(e.column)} ${sql.raw(COMPARISONS[e.cmp])} ${e.value}, false)`;
    case 'property':
      return sql<boolean>`coalesce((${col('properties')} -> ${e.name} ->> 'value')::float8 ${sql.raw(COMPARISONS[e.cmp])} ${e.value}, false)`;
    case 'formula':
      return sql<boolean>`coalesce(${col(e.column)} = ${e.formula}, false)`;
  }
}

/** A material filter in column terms (services translate user input into this). */
export interface MaterialRowFilter {
  /** elements @> these (contains all). */
  elementsHasAll?: readonly string[];
  /** elements <@ these (no other element). */
  elementsHasOnly?: readonly string[];
  /** elements && these (at least one). */
  elementsHasAny?: readonly string[];
  /** not elements && these (none of them). */
  elementsHasNone?: readonly string[];
  nelementsMin?: number;
  nelementsMax?: number;
  /** null = no current label. */
  currentLabelClass?: LabelClass | null;
  reducedFormula?: string;
  kind?: MaterialKind;
  /** (properties -> name ->> 'value') within [min, max] (a bound left null is open; a missing property matches no range). */
  properties?: readonly { name: string; min: number | null; max: number | null }[];
  spaceGroupNumber?: number;
  chargeBalanced?: boolean;
  hasAnion?: boolean;
  hasReducibleTransitionMetal?: boolean;
  /** true: only retired materials; false: none. */
  retired?: boolean;
  /** An OPTIMADE filter string, parsed (services/optimade-filter.ts). */
  expression?: FilterExpression;
}

/**
 * The filter's SQL conditions (the one definition: listing here, screening's candidate joins in
 * store/screening/). `alias` qualifies the columns (e.g. 'm' in a join). No conditions = no filter.
 */
export function materialFilterConditions(filter: MaterialRowFilter, alias?: string): RawBuilder<boolean>[] {
  const col = (name: string) => sql.ref(alias ? `${alias}.${name}` : name);
  const conditions: RawBuilder<boolean>[] = [];
  if (filter.elementsHasAll?.length) conditions.push(sql<boolean>`${col('elements')} @> ${sql.val([...filter.elementsHasAll])}::text[]`);
  if (filter.elementsHasOnly) conditions.push(sql<boolean>`${col('elements')} <@ ${sql.val([...filter.elementsHasOnly])}::text[]`);
  // An empty "any" list matches nothing (as OPTIMADE's HAS ANY of no values); an empty "none" list, everything.
  if (filter.elementsHasAny) conditions.push(sql<boolean>`${col('elements')} && ${sql.val([...filter.elementsHasAny])}::text[]`);
  if (filter.elementsHasNone?.length) conditions.push(sql<boolean>`not (${col('elements')} && ${sql.val([...filter.elementsHasNone])}::text[])`);
  if (filter.nelementsMin !== undefined) conditions.push(sql<boolean>`${col('nelements')} >= ${filter.nelementsMin}`);
  if (filter.nelementsMax !== undefined) conditions.push(sql<boolean>`${col('nelements')} <= ${filter.nelementsMax}`);
  if (filter.currentLabelClass === null) conditions.push(sql<boolean>`${col('current_label_class')} is null`);
  else if (filter.currentLabelClass !== undefined) conditions.push(sql<boolean>`${col('current_label_class')} = ${filter.currentLabelClass}`);
  if (filter.reducedFormula !== undefined) conditions.push(sql<boolean>`${col('reduced_formula')} = ${filter.reducedFormula}`);
  if (filter.kind !== undefined) conditions.push(sql<boolean>`${col('kind')} = ${filter.kind}`);
  for (const range of filter.properties ?? []) {
    const value = sql`(${col('properties')} -> ${range.name} ->> 'value')::float8`;
    if (range.min === null && range.max === null) conditions.push(sql<boolean>`${col('properties')} ? ${range.name}`);
    if (range.min !== null) conditions.push(sql<boolean>`${value} >= ${range.min}`);
    if (range.max !== null) conditions.push(sql<boolean>`${value} <= ${range.max}`);
  }
  if (filter.spaceGroupNumber !== undefined) conditions.push(sql<boolean>`${col('space_group_number')} = ${filter.spaceGroupNumber}`);
  // "is true"/"is not true": a material not assessed (null) matches false, never true.
  const flag = (column: string, value: boolean | undefined) => {
    if (value === true) conditions.push(sql<boolean>`${col(column)} is true`);
    else if (value === false) conditions.push(sql<boolean>`${col(column)} is not true`);
  };
  flag('charge_balanced', filter.chargeBalanced);
  flag('has_anion', filter.hasAnion);
  flag('has_reducible_tm', filter.hasReducibleTransitionMetal);
  if (filter.retired === true) conditions.push(sql<boolean>`${col('retired_at')} is not null`);
  else if (filter.retired === false) conditions.push(sql<boolean>`${col('retired_at')} is null`);
  if (filter.expression) conditions.push(expressionCondition(filter.expression, col));
  return conditions;
}

function filtered(db: Db, filter: MaterialRowFilter) {
  let query = db.selectFrom('material');
  for (const condition of materialFilterConditions(filter)) query = query.where(condition);
  return query;
}

/** Keyset page ordered by id ascending: rows with id > afterId, at most `limit`. */
export function listMaterialRows(
  db: Db,
  filter: MaterialRowFilter,
  afterId: string | null,
  limit: number,
): Promise<MaterialRow[]> {
  let query = filtered(db, filter).selectAll();
  if (afterId !== null) query = query.where('id', '>', afterId);
  return query.orderBy('id', 'asc').limit(limit).execute();
}

export async function countMaterialRows(db: Db, filter: MaterialRowFilter): Promise<number> {
  const row = await filtered(db, filter)
    .select((eb) => eb.fn.countAll<string>().as('count'))
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

export function findMaterialRowsByIds(db: Db, ids: readonly string[]): Promise<MaterialRow[]> {
  if (ids.length === 0) return Promise.resolve([]);
  return db.selectFrom('material').selectAll().where('id', 'in', [...ids]).execute();
}

/** A material row without its structure JSON (the bulk of a row: ~6 kB of text on average for OBELiX). */
export type MaterialSummaryRow = Omit<MaterialRow, 'structure'>;

/** Every column of `material` except `structure`. */
export const MATERIAL_SUMMARY_COLUMNS = [
  'id',
  'name',
  'source',
  'source_id',
  'source_url',
  'aliases',
  'family',
  'kind',
  'formula',
  'reduced_formula',
  'elements',
  'nelements',
  'nsites',
  'natoms',
  'volume_a3',
  'density_g_per_cm3',
  'is_ordered',
  'structure_hash',
  'current_label_class',
  'properties',
  'space_group_number',
  'space_group_symbol',
  'derived_version',
  'charge_balanced',
  'oxidation_states',
  'has_anion',
  'has_reducible_tm',
  'retired_at',
  'retired_by',
  'retired_reason',
  'created_by',
  'created_at',
] as const satisfies readonly (keyof MaterialSummaryRow)[];

export function findMaterialSummaryRowsByIds(db: Db, ids: readonly string[]): Promise<MaterialSummaryRow[]> {
  if (ids.length === 0) return Promise.resolve([]);
  return db.selectFrom('material').select(MATERIAL_SUMMARY_COLUMNS).where('id', 'in', [...ids]).execute();
}

export function findStructuresByIds(db: Db, ids: readonly string[]): Promise<Pick<MaterialRow, 'id' | 'structure'>[]> {
  if (ids.length === 0) return Promise.resolve([]);
  return db.selectFrom('material').select(['id', 'structure']).where('id', 'in', [...ids]).execute();
}

/** The columns that identify a material: its id and its two natural keys. */
export type MaterialKey = Pick<MaterialRow, 'id' | 'structure_hash' | 'source' | 'source_id'>;
const KEY_COLUMNS = ['id', 'structure_hash', 'source', 'source_id'] as const;

export function findMaterialKeysByHashes(db: Db, hashes: readonly string[]): Promise<MaterialKey[]> {
  if (hashes.length === 0) return Promise.resolve([]);
  return db.selectFrom('material').select(KEY_COLUMNS).where('structure_hash', 'in', [...hashes]).execute();
}

/**
 * Rows of these external records ((source, sourceId) pairs). The pairs go in as one JSON
 * parameter joined through the (source, source_id) unique index: one index probe per pair. (An
 * OR of one `source = … and source_id = …` term per pair made PostgreSQL recheck the whole OR on
 * every row of a bitmap scan: 4 s for a 1,000-entry OPTIMADE page against 64,000 stored rows,
 * growing with the table; this form takes 3–15 ms there.)
 */
export function findMaterialKeysBySourceRecords(
  db: Db,
  records: readonly { source: string; sourceId: string }[],
): Promise<MaterialKey[]> {
  if (records.length === 0) return Promise.resolve([]);
  const pairs = JSON.stringify(records.map((r) => ({ source: r.source, source_id: r.sourceId })));
  return db
    .selectFrom('material')
    .select(KEY_COLUMNS)
    .where(
      sql<boolean>`(source, source_id) in (select r.source, r.source_id from jsonb_to_recordset(${pairs}::jsonb) as r(source text, source_id text))`,
    )
    .execute();
}

/**
 * One multi-row INSERT; a row that collides with an existing structure hash or (source, source_id)
 * is skipped. Returns the keys of the inserted rows, in the order of `rows` (Postgres inserts and
 * returns a VALUES list in order). Only keys come back: returning the structure JSON of a bulk
 * import would double its traffic.
 */
export function insertMaterialRows(db: Db, rows: readonly NewMaterialRow[]): Promise<MaterialKey[]> {
  if (rows.length === 0) return Promise.resolve([]);
  return db
    .insertInto('material')
    .values([...rows])
    .onConflict((oc) => oc.doNothing())
    .returning(KEY_COLUMNS)
    .execute();
}

/** Locks a material row until the end of the transaction; false if it does not exist. */
export async function lockMaterialRow(db: Db, id: string): Promise<boolean> {
  const row = await db.selectFrom('material').select('id').where('id', '=', id).forUpdate().executeTakeFirst();
  return row !== undefined;
}

/** Whether any material's source starts with `prefix` (LIKE wildcards in it are escaped). */
export async function materialExistsWithSourcePrefix(db: Db, prefix: string): Promise<boolean> {
  const pattern = `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  const row = await db.selectFrom('material').select('id').where('source', 'like', pattern).limit(1).executeTakeFirst();
  return row !== undefined;
}

/** Keys of the rows with one of these source ids (any source). */
export function findMaterialKeysBySourceIds(db: Db, sourceIds: readonly string[]): Promise<MaterialKey[]> {
  if (sourceIds.length === 0) return Promise.resolve([]);
  return db.selectFrom('material').select(KEY_COLUMNS).where('source_id', 'in', [...sourceIds]).execute();
}

/** Rewrites a row's provider record (id, link, aliases). */
export async function updateMaterialProvenance(
  db: Db,
  id: string,
  values: { source_id: string | null; source_url: string | null; aliases: string },
): Promise<void> {
  await db.updateTable('material').set(values).where('id', '=', id).execute();
}

export async function updateMaterialProperties(db: Db, id: string, properties: string): Promise<void> {
  await db.updateTable('material').set({ properties }).where('id', '=', id).execute();
}

/**
 * Adds properties to rows that lack them (the ones a row already has are kept: a curator's value
 * wins over a re-seed). Rows that have every given name are not written.
 */
export async function addMissingMaterialProperties(db: Db, values: readonly { id: string; properties: Record<string, unknown> }[]): Promise<void> {
  if (values.length === 0) return;
  await sql`
    update material m set properties = v.properties || m.properties
    from jsonb_to_recordset(${JSON.stringify(values)}::jsonb) as v(id bigint, properties jsonb)
    where m.id = v.id and not (m.properties ?& array(select jsonb_object_keys(v.properties)))`.execute(db);
}

/**
 * Adds an alias to a material unless one with the same name and source is there, or the row's own
 * name and source are these (a re-upload under the same name adds nothing).
 */
export async function appendMaterialAlias(db: Db, id: string, alias: MaterialAlias): Promise<void> {
  const key = JSON.stringify([{ name: alias.name, source: alias.source }]);
  await sql`
    update material set aliases = aliases || ${JSON.stringify([alias])}::jsonb
    where id = ${id}::bigint and not (aliases @> ${key}::jsonb)
      and not (name is not distinct from ${alias.name}::text and source is not distinct from ${alias.source}::text)`.execute(db);
}

export async function setMaterialRetirement(
  db: Db,
  id: string,
  values: { retired_at: Date | null; retired_by: string | null; retired_reason: string | null },
): Promise<void> {
  await db.updateTable('material').set(values).where('id', '=', id).execute();
}

export async function deleteMaterialRow(db: Db, id: string): Promise<void> {
  await db.deleteFrom('material').where('id', '=', id).execute();
}
