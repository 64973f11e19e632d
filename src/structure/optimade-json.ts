/**
 * JSON ↔ Structure.
 *
 * Read: (1) OPTIMADE structure attributes (`lattice_vectors`, `cartesian_site_positions`,
 * `species_at_sites`, `species` [{name, chemical_symbols, concentration}]), bare or inside a full
 * entry `{attributes: …}` / `{data: {attributes: …}}`; (2) the pymatgen-like shape of our data
 * files (structures_p1.jsonl): `{lattice: [[…]×3] | {matrix}, sites: [{frac | abc, species:
 * {Li: 0.5} | [{element, occu}]}]}`.
 * Write: OPTIMADE attributes (a partially occupied site lists "vacancy" for the remainder, so the
 * concentrations of each species sum to 1 as the specification asks).
 */
import { quoteInput, StructureParseError } from '../errors.js';
import { cartToFrac, fracToCart, invertMat3, latticeDeterminant } from './lattice.js';
import type { Mat3, Site, SpeciesOccupancy, Structure, Vec3 } from './structure.js';

const FORMAT = 'JSON';

function fail(message: string): never {
  throw new StructureParseError(FORMAT, message);
}

type Json = unknown;

function isObject(x: Json): x is Record<string, Json> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/**
 * What a JSON value is, for an error message. Never serialised: the value may be megabytes long or
 * nested deeper than JSON.stringify can recurse (a RangeError, not a BAD_USER_INPUT).
 */
function jsonKind(x: Json): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return `an array of ${x.length}`;
  if (typeof x === 'object') return 'an object';
  if (typeof x === 'string') return x.length > 40 ? `a string of ${x.length} characters` : `the string ${quoteInput(x)}`;
  return String(x);
}

function toNumber(x: Json, what: string): number {
  // OPTIMADE allows null in vectors for non-periodic directions; we need all three.
  if (typeof x !== 'number') fail(`${what} must be a number, got ${jsonKind(x)}`);
  return x as number;
}

function toVec3(x: Json, what: string): Vec3 {
  if (!Array.isArray(x) || x.length !== 3) fail(`${what} must be an array of 3 numbers`);
  return (x as Json[]).map((v, k) => toNumber(v, `${what}[${k}]`)) as Vec3;
}

function toMat3(x: Json, what: string): Mat3 {
  if (!Array.isArray(x) || x.length !== 3) fail(`${what} must be a 3×3 array`);
  return (x as Json[]).map((row, k) => toVec3(row, `${what}[${k}]`)) as Mat3;
}

export function readStructureJson(text: string): Structure {
  let doc: Json;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return fail(`invalid JSON: ${(err as Error).message}`);
  }
  if (!isObject(doc)) fail('expected a JSON object');
  let obj = doc as Record<string, Json>;
  if (isObject(obj.data)) obj = obj.data;
  if (isObject(obj.attributes)) obj = obj.attributes;
  if ('lattice_vectors' in obj) return readOptimade(obj);
  if ('lattice' in obj && 'sites' in obj) return readPymatgenLike(obj);
  return fail('unrecognised JSON: expected OPTIMADE fields (lattice_vectors, cartesian_site_positions, species_at_sites) or {lattice, sites}');
}

function inverseOrFail(lattice: Mat3): Mat3 {
  const det = latticeDeterminant(lattice);
  if (!Number.isFinite(det) || Math.abs(det) < 1e-12) fail(`singular lattice: cell volume ${det} Å³`);
  return invertMat3(lattice);
}

function readOptimade(obj: Record<string, Json>): Structure {
  const lattice = toMat3(obj.lattice_vectors, 'lattice_vectors');
  const positions = obj.cartesian_site_positions;
  const names = obj.species_at_sites;
  if (!Array.isArray(positions)) fail('missing coordinates: cartesian_site_positions must be an array');
  if (!Array.isArray(names)) fail('species_at_sites must be an array');
  if ((positions as Json[]).length !== (names as Json[]).length) {
    fail(`cartesian_site_positions has ${(positions as Json[]).length} entries but species_at_sites has ${(names as Json[]).length}`);
  }
  const speciesByName = new Map<string, SpeciesOccupancy[]>();
  if (obj.species !== undefined) {
    if (!Array.isArray(obj.species)) fail('species must be an array');
    for (const [k, sp] of (obj.species as Json[]).entries()) {
      if (!isObject(sp) || typeof sp.name !== 'string') fail(`species[${k}] needs a name`);
      const sym = (sp as Record<string, Json>).chemical_symbols;
      const conc = (sp as Record<string, Json>).concentration;
      if (!Array.isArray(sym) || !Array.isArray(conc) || sym.length !== conc.length) {
        fail(`species[${k}] needs chemical_symbols and concentration of equal length`);
      }
      const list: SpeciesOccupancy[] = [];
      (sym as Json[]).forEach((s, j) => {
        if (typeof s !== 'string') fail(`species[${k}].chemical_symbols[${j}] must be a string`);
        if (s === 'vacancy') return;
        list.push({ element: s as string, occupancy: toNumber((conc as Json[])[j], `species[${k}].concentration[${j}]`) });
      });
      speciesByName.set((sp as Record<string, Json>).name as string, list);
    }
  }
  const inverse = inverseOrFail(lattice);
  const sites: Site[] = (positions as Json[]).map((p, i) => {
    const name = (names as Json[])[i];
    if (typeof name !== 'string') fail(`species_at_sites[${i}] must be a string`);
    // Without a species list, OPTIMADE species names are element symbols.
    const species = speciesByName.get(name as string) ?? (obj.species === undefined ? [{ element: name as string, occupancy: 1 }] : undefined);
    if (!species) fail(`species_at_sites[${i}] ${quoteInput(name as string)} is not in species`);
    const cart = toVec3(p, `cartesian_site_positions[${i}]`);
    return { species: species!.map((s) => ({ ...s })), frac: cartToFrac(cart, inverse) };
  });
  return { lattice, sites };
}

function readPymatgenLike(obj: Record<string, Json>): Structure {
  const latticeJson = isObject(obj.lattice) ? obj.lattice.matrix : obj.lattice;
  const lattice = toMat3(latticeJson, 'lattice');
  if (!Array.isArray(obj.sites)) fail('sites must be an array');
  const sites: Site[] = (obj.sites as Json[]).map((s, i) => {
    if (!isObject(s)) fail(`sites[${i}] must be an object`);
    const site = s as Record<string, Json>;
    const fracJson = site.frac ?? site.abc;
    if (fracJson === undefined) fail(`missing coordinates: sites[${i}] needs frac (or abc)`);
    const frac = toVec3(fracJson, `sites[${i}].frac`);
    let species: SpeciesOccupancy[];
    if (Array.isArray(site.species)) {
      species = (site.species as Json[]).map((sp, j) => {
        if (!isObject(sp) || typeof sp.element !== 'string') fail(`sites[${i}].species[${j}] needs an element`);
        const occ = (sp as Record<string, Json>).occu ?? (sp as Record<string, Json>).occupancy ?? 1;
        return { element: (sp as Record<string, Json>).element as string, occupancy: toNumber(occ, `sites[${i}].species[${j}].occu`) };
      });
    } else if (isObject(site.species)) {
      species = Object.entries(site.species).map(([element, occ]) => ({
        element,
        occupancy: toNumber(occ, `sites[${i}].species[${quoteInput(element)}]`),
      }));
    } else {
      return fail(`sites[${i}].species must be {element: occupancy} or [{element, occu}]`);
    }
    const out: Site = { species, frac };
    if (typeof site.label === 'string') out.label = site.label;
    return out;
  });
  return { lattice, sites };
}

/** Species name for one site's composition: "Li" when ordered, else e.g. "Li0.5La0.5". */
function speciesName(species: readonly SpeciesOccupancy[]): string {
  if (species.length === 1 && species[0]!.occupancy === 1) return species[0]!.element;
  return species.map((s) => `${s.element}${+s.occupancy.toPrecision(6)}`).join('');
}

export interface OptimadeStructureAttributes {
  lattice_vectors: Mat3;
  cartesian_site_positions: Vec3[];
  species_at_sites: string[];
  species: { name: string; chemical_symbols: string[]; concentration: number[] }[];
  nsites: number;
  elements: string[];
  nelements: number;
  dimension_types: [1, 1, 1];
  nperiodic_dimensions: 3;
  structure_features: string[];
}

/** OPTIMADE structure attributes of a structure (reads back with parseStructure('JSON', …)). */
export function structureToJson(s: Structure): OptimadeStructureAttributes {
  const species: OptimadeStructureAttributes['species'] = [];
  const nameByKey = new Map<string, string>();
  const speciesAtSites = s.sites.map((site) => {
    const key = JSON.stringify(site.species.map((x) => [x.element, x.occupancy]));
    let name = nameByKey.get(key);
    if (name === undefined) {
      const base = speciesName(site.species);
      name = base;
      for (let n = 2; species.some((x) => x.name === name); n++) name = `${base}_${n}`;
      const chemical_symbols = site.species.map((x) => x.element);
      const concentration = site.species.map((x) => x.occupancy);
      const total = concentration.reduce((a, b) => a + b, 0);
      if (total < 1 - 1e-9) {
        chemical_symbols.push('vacancy');
        concentration.push(1 - total);
      }
      species.push({ name, chemical_symbols, concentration });
      nameByKey.set(key, name);
    }
    return name;
  });
  const elements = [...new Set(s.sites.flatMap((x) => x.species.map((sp) => sp.element)))].sort();
  const disordered = s.sites.some((x) => x.species.length > 1 || x.species[0]!.occupancy < 1);
  return {
    lattice_vectors: s.lattice.map((r) => [...r]) as Mat3,
    cartesian_site_positions: s.sites.map((x) => fracToCart(x.frac, s.lattice)),
    species_at_sites: speciesAtSites,
    species,
    nsites: s.sites.length,
    elements,
    nelements: elements.length,
    dimension_types: [1, 1, 1],
    nperiodic_dimensions: 3,
    structure_features: disordered ? ['disorder'] : [],
  };
}

/** One structure entry of an OPTIMADE list response, as its own JSON text, with what identifies it. */
export interface OptimadeListEntry {
  /** The entry's `id` at its provider (e.g. "mp-1234"); null when it has none. */
  id: string | null;
  /** `{id, type, attributes}` of the entry, for readStructureJson. */
  text: string;
  attributes: Record<string, unknown>;
}

/**
 * The entries of an OPTIMADE list response (`{"data": [...], "meta": {"provider": …}}`), or null
 * when the text is not one (then it is a single structure). The provider's prefix (e.g. "mp") comes
 * from `meta.provider.prefix` when given. Throws StructureParseError for invalid JSON or an entry
 * that is not a structures object.
 */
export function readOptimadeList(text: string): { entries: OptimadeListEntry[]; provider: string | null } | null {
  let doc: Json;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return fail(`invalid JSON: ${(err as Error).message}`);
  }
  if (!isObject(doc) || !Array.isArray(doc.data)) return null;
  const provider = optimadeProviderPrefix(doc);
  if ((doc.data as Json[]).length === 0) fail('the OPTIMADE list response has no entries (data is empty)');
  const entries = (doc.data as Json[]).map((entry, i) => readOptimadeEntry(entry, `data[${i}]`));
  return { entries, provider };
}

/**
 * One element of an OPTIMADE response's `data` (`where` names it in messages, e.g. "data[3]").
 * Throws StructureParseError when it is not a structures entry with attributes; its structure is
 * read later, from `text`.
 */
export function readOptimadeEntry(entry: Json, where: string): OptimadeListEntry {
  if (!isObject(entry) || !isObject(entry.attributes)) fail(`${where} is ${jsonKind(entry)}, not an entry with attributes`);
  if (entry.type !== undefined && entry.type !== 'structures') fail(`${where} has type ${quoteInput(String(entry.type))}, not "structures"`);
  const id = typeof entry.id === 'string' || typeof entry.id === 'number' ? String(entry.id) : null;
  return { id, text: JSON.stringify(entry), attributes: entry.attributes as Record<string, unknown> };
}

/** The provider prefix of an OPTIMADE response (`meta.provider.prefix`, e.g. "mp"), or null. */
export function optimadeProviderPrefix(doc: Json): string | null {
  const meta = isObject(doc) && isObject(doc.meta) && isObject(doc.meta.provider) ? doc.meta.provider : null;
  return meta && typeof meta.prefix === 'string' && meta.prefix.trim() !== '' ? meta.prefix.trim() : null;
}
