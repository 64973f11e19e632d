/**
 * Numeric material properties (band gap, energy above hull, formation energy, anything a provider
 * gives): names, units, checks, and the curator's write. Values live on the material row
 * (`material.properties`, migration 2026_12_07_1400).
 */
import { BadInputError, NotFoundError } from '../errors.js';
import { inTransaction, type Db } from '../store/database.js';
import { findMaterialRowsByIds, lockMaterialRow, updateMaterialProperties } from '../store/material.repository.js';
import type { MaterialProperty } from '../store/material.table.js';

/**
 * Units of the names ionsieve itself uses (the name says the unit, so another unit is refused).
 * Other names are free (OPTIMADE attributes, provider-prefixed ones such as `_mp_band_gap`).
 */
export const KNOWN_PROPERTY_UNITS: Readonly<Record<string, string>> = Object.freeze({
  band_gap_ev: 'eV',
  energy_above_hull_ev_per_atom: 'eV/atom',
  formation_energy_ev_per_atom: 'eV/atom',
});

/** OPTIMADE-style identifiers: lower-case letters, digits and "_", optionally with a `_provider_` prefix. */
const PROPERTY_NAME = /^[a-z_][a-z0-9_]{0,99}$/;
/** Most properties per material, and most ranges per filter. */
export const MAX_PROPERTIES = 100;
export const MAX_PROPERTY_RANGES = 20;
const MAX_PROPERTY_TEXT = 500;

export interface PropertyInput {
  name: string;
  /** null removes the property (curator mutation only). */
  value: number | null;
  unit?: string | null;
  source?: string | null;
}

export interface PropertyRange {
  name: string;
  min?: number | null;
  max?: number | null;
}

export function checkPropertyName(name: unknown, field: string): string {
  if (typeof name !== 'string' || !PROPERTY_NAME.test(name)) {
    throw new BadInputError(
      `${field}: ${JSON.stringify(String(name).slice(0, 60))} is not a property name (lower-case letters, digits and _, at most 100, e.g. band_gap_ev)`,
      { field },
    );
  }
  return name;
}

function optionalShortText(value: unknown, field: string): string | null {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value !== 'string' || value.length > MAX_PROPERTY_TEXT || /[\u0000]/.test(value)) {
    throw new BadInputError(`${field} must be text of at most ${MAX_PROPERTY_TEXT} characters`, { field });
  }
  return value.trim() || null;
}

/**
 * One checked property (value finite; a known name keeps its unit). `field` names the input in
 * messages (e.g. `properties[2]`).
 */
export function checkProperty(input: PropertyInput, field: string, setBy: string | null, setAt: string): [string, MaterialProperty | null] {
  const name = checkPropertyName(input.name, `${field}.name`);
  const unit = optionalShortText(input.unit, `${field}.unit`);
  const known = KNOWN_PROPERTY_UNITS[name];
  if (known !== undefined && unit !== null && unit !== known) {
    throw new BadInputError(`${field}.unit: ${name} is in ${known}, not ${unit}`, { field: `${field}.unit` });
  }
  if (input.value === null) return [name, null];
  if (typeof input.value !== 'number' || !Number.isFinite(input.value)) {
    throw new BadInputError(`${field}.value must be a finite number, got ${String(input.value)}`, { field: `${field}.value` });
  }
  return [name, { value: input.value, unit: unit ?? known ?? null, source: optionalShortText(input.source, `${field}.source`), setBy, setAt }];
}

/** Properties given with a new record (import, seed), keyed by name; null values are left out. */
export function propertiesOf(inputs: readonly PropertyInput[], setBy: string | null, field = 'properties'): Record<string, MaterialProperty> {
  if (inputs.length > MAX_PROPERTIES) throw new BadInputError(`${field}: at most ${MAX_PROPERTIES} properties, got ${inputs.length}`, { field });
  const setAt = new Date().toISOString();
  const out: Record<string, MaterialProperty> = {};
  inputs.forEach((input, i) => {
    const [name, property] = checkProperty(input, `${field}[${i}]`, setBy, setAt);
    if (property) out[name] = property;
  });
  return out;
}

/** A filter's property ranges, checked. */
export function checkPropertyRanges(
  ranges: readonly PropertyRange[] | undefined | null,
  field: string,
): { name: string; min: number | null; max: number | null }[] | undefined {
  if (ranges === undefined || ranges === null) return undefined;
  if (!Array.isArray(ranges)) throw new BadInputError(`${field} must be a list of {name, min, max}`, { field });
  if (ranges.length > MAX_PROPERTY_RANGES) {
    throw new BadInputError(`${field} lists ${ranges.length} ranges, more than the limit of ${MAX_PROPERTY_RANGES}`, { field });
  }
  return ranges.map((range, i) => {
    const at = `${field}[${i}]`;
    const name = checkPropertyName(range?.name, `${at}.name`);
    const bound = (value: number | null | undefined, which: string) => {
      if (value === undefined || value === null) return null;
      if (typeof value !== 'number' || !Number.isFinite(value)) throw new BadInputError(`${at}.${which} must be a finite number`, { field: `${at}.${which}` });
      return value;
    };
    const min = bound(range.min, 'min');
    const max = bound(range.max, 'max');
    if (min !== null && max !== null && min > max) throw new BadInputError(`${at}: min ${min} is greater than max ${max}`, { field: at });
    return { name, min, max };
  });
}

/**
 * Sets (or, with value null, removes) properties of a material, all or none; the row is locked
 * so concurrent writes merge.
 */
export async function setMaterialProperties(
  db: Db,
  materialId: string,
  inputs: readonly PropertyInput[],
  actor: string | null,
): Promise<void> {
  if (!Array.isArray(inputs) || inputs.length === 0) throw new BadInputError('properties: give at least one property', { field: 'properties' });
  if (inputs.length > MAX_PROPERTIES) throw new BadInputError(`properties: at most ${MAX_PROPERTIES}, got ${inputs.length}`, { field: 'properties' });
  const setAt = new Date().toISOString();
  const changes = inputs.map((input, i) => checkProperty(input, `properties[${i}]`, actor, setAt));
  const names = changes.map(([name]) => name);
  const repeated = names.find((name, i) => names.indexOf(name) !== i);
  if (repeated) throw new BadInputError(`properties: ${repeated} is given twice`, { field: 'properties' });
  await inTransaction(db, async (tx) => {
    if (!(await lockMaterialRow(tx, materialId))) throw new NotFoundError('material', materialId);
    const [row] = await findMaterialRowsByIds(tx, [materialId]);
    const properties = { ...row!.properties };
    for (const [name, property] of changes) {
      if (property) properties[name] = property;
      else delete properties[name];
    }
    if (Object.keys(properties).length > MAX_PROPERTIES) {
      throw new BadInputError(`a material holds at most ${MAX_PROPERTIES} properties`, { field: 'properties' });
    }
    await updateMaterialProperties(tx, materialId, JSON.stringify(properties));
  });
}
