/**
 * OPTIMADE list responses given as material input: the entries of a list, and the provenance of
 * one entry (its id as sourceId, the provider as source, its numeric provider-specific attributes
 * as properties). Used by addMaterials (materials.ts), ingest.ts and optimade-import.ts.
 */
import { BadInputError } from '../errors.js';
import { readOptimadeList, type OptimadeListEntry } from '../structure/index.js';
import type { MaterialProvenance } from './material-rows.js';
import { propertiesOf } from './properties.js';

/** The entries of an OPTIMADE list response given as one JSON input, or null for a single structure. */
export function optimadeListOf(text: string, limits: { maxTextBytes: number }) {
  if (typeof text !== 'string') throw new BadInputError('structure text must be a string');
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > limits.maxTextBytes) throw new BadInputError(`structure text is ${bytes} bytes, more than the limit of ${limits.maxTextBytes}`);
  // Cheap test first: a single structure is parsed once, by the structure reader.
  if (!/"data"\s*:\s*\[/.test(text)) return null;
  return readOptimadeList(text);
}

/**
 * Provenance of an OPTIMADE entry: its id as `sourceId` (linked when the provider has pages, e.g.
 * Materials Project), `optimade:<provider prefix>` as source unless the caller gave one, and its
 * numeric provider-specific attributes (`_mp_band_gap`, …) as properties.
 */
export function optimadeProvenance(
  entry: OptimadeListEntry,
  provider: string | null,
  given: MaterialProvenance,
  /** Units of the provider's properties by name, from its `/v1/info/structures` (an import reads them). */
  units: Readonly<Record<string, string>> = {},
): MaterialProvenance {
  const attributes = entry.attributes;
  const formula = typeof attributes.chemical_formula_reduced === 'string' ? attributes.chemical_formula_reduced : null;
  const inputs = Object.entries(attributes)
    .filter(([name, value]) => /^_[a-z0-9]+_[a-z0-9_]+$/.test(name) && typeof value === 'number' && Number.isFinite(value))
    .map(([name, value]) => ({
      name,
      value: value as number,
      unit: Object.hasOwn(units, name) ? units[name] : null,
      source: `OPTIMADE ${provider ?? 'provider'} entry ${entry.id ?? '?'}`,
    }));
  return {
    name: given.name ?? formula ?? entry.id,
    source: given.source ?? (provider ? `optimade:${provider}` : 'optimade'),
    sourceId: entry.id,
    sourceUrl: given.sourceUrl,
    createdBy: given.createdBy,
    properties: propertiesOf(inputs, given.createdBy ?? null),
  };
}
