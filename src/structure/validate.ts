/**
 * Checks every parsed structure, whatever its format, and brings it to the contract's normal
 * form: finite numbers, a non-singular lattice, known elements, co-located sites merged,
 * occupancies renormalised when slightly above 1, fractional coordinates wrapped into [0, 1).
 */
import { quoteInput, StructureParseError } from '../errors.js';
import { MIN_AMOUNT } from './composition.js';
import { findElement } from './elements.js';
import { latticeDeterminant, wrapVec3 } from './lattice.js';
import { mergeCoLocatedSites } from './merge-sites.js';
import type { Site, Structure, StructureFormat } from './structure.js';

/** |det| below this (Å³) means a singular or degenerate cell. */
export const MIN_CELL_VOLUME_A3 = 1e-3;
/**
 * Smallest occupancy accepted: the smallest amount a formula shows (1e-4). CIFs print occupancies
 * with a few decimals, so less is noise, and a smaller one would be written "Li0" in the formula (or
 * vanish from it, leaving an empty formula).
 */
export const MIN_OCCUPANCY = MIN_AMOUNT;
/** Site occupancy sums up to this are renormalised to 1 (pymatgen's occupancy_tolerance). */
export const OCCUPANCY_TOLERANCE = 1.05;
export const DEFAULT_MAX_SITES = 2000;
/**
 * Site rows accepted before co-located ones are merged, per site allowed after: a mixed site is
 * several rows. Bounds the work done on a text that cannot pass (a 5 MiB text holds ~250,000 rows).
 */
export const MAX_ROWS_PER_SITE = 10;
/** Species listed in an occupancy error (a flood of co-located rows can put dozens on one site). */
const MAX_SPECIES_SHOWN = 6;

/** U+0000 or an unpaired surrogate (under the u flag, \p{Cs} matches only unpaired ones). */
const UNSTORABLE_CHARACTER = /[\u0000\p{Cs}]/u;

/**
 * False for text the store cannot keep: PostgreSQL text and jsonb reject U+0000 (the INSERT
 * fails), and an unpaired surrogate is not Unicode (jsonb rejects its escape). Checked for every
 * free text that is stored: site labels here, names and sources in services/material-rows.ts.
 */
export function isStorableText(text: string): boolean {
  return !UNSTORABLE_CHARACTER.test(text);
}

export interface ValidateOptions {
  maxSites?: number;
}

function maxLength(lattice: Structure['lattice']): number {
  return Math.max(...lattice.map((v) => Math.hypot(...v)));
}

/** " (Li1)" for a labelled site, for messages. */
function siteLabel(site: Site): string {
  return site.label ? ` (${quoteInput(site.label)})` : '';
}

export function validateStructure(
  format: StructureFormat,
  structure: Structure,
  options: ValidateOptions = {},
): Structure {
  const maxSites = options.maxSites ?? DEFAULT_MAX_SITES;
  const fail = (message: string): never => {
    throw new StructureParseError(format, message);
  };

  const { lattice } = structure;
  if (!lattice.every((row) => row.every((x) => Number.isFinite(x)))) {
    fail('lattice has NaN or Infinity entries');
  }
  const det = latticeDeterminant(lattice);
  // Finite entries can still overflow the volume (1e200 Å edges): Infinity or NaN facts downstream.
  if (!Number.isFinite(det)) fail(`cell volume overflows: lattice vectors of ${maxLength(lattice).toPrecision(3)} Å are too long`);
  if (!(Math.abs(det) >= MIN_CELL_VOLUME_A3)) {
    fail(`singular lattice: cell volume ${det.toPrecision(3)} Å³ is zero or below ${MIN_CELL_VOLUME_A3} Å³`);
  }
  if (structure.sites.length === 0) fail('no atom sites');
  if (structure.sites.length > maxSites * MAX_ROWS_PER_SITE) {
    fail(`too many sites: ${structure.sites.length} site rows > ${MAX_ROWS_PER_SITE} × maxSites ${maxSites}`);
  }

  structure.sites.forEach((site, i) => {
    if (!site.frac.every((x) => Number.isFinite(x))) {
      fail(`site ${i + 1}${siteLabel(site)} has NaN or Infinity coordinates`);
    }
    if (site.species.length === 0) fail(`site ${i + 1} has no species`);
    if (site.label !== undefined && !isStorableText(site.label)) {
      fail(`site ${i + 1} label ${quoteInput(site.label)} contains a NUL character or an unpaired surrogate`);
    }
    for (const sp of site.species) {
      if (!findElement(sp.element)) fail(`unknown element ${quoteInput(sp.element)} at site ${i + 1}`);
      if (!Number.isFinite(sp.occupancy) || sp.occupancy <= 0) {
        fail(`site ${i + 1} has invalid occupancy ${sp.occupancy} for ${quoteInput(sp.element)}`);
      }
      if (sp.occupancy < MIN_OCCUPANCY) {
        fail(`site ${i + 1} has occupancy ${sp.occupancy} for ${sp.element}, below the smallest accepted ${MIN_OCCUPANCY}`);
      }
    }
  });

  const merged = mergeCoLocatedSites(structure.sites.map((s) => ({ ...s, frac: wrapVec3(s.frac) })));
  if (merged.length > maxSites) fail(`too many sites: ${merged.length} > maxSites ${maxSites}`);

  const sites: Site[] = merged.map((site, i) => {
    const total = site.species.reduce((acc, sp) => acc + sp.occupancy, 0);
    if (total > OCCUPANCY_TOLERANCE) {
      const shown = site.species.slice(0, MAX_SPECIES_SHOWN).map((sp) => `${sp.element}:${+sp.occupancy.toFixed(4)}`);
      const more = site.species.length - shown.length;
      const what = shown.join(' + ') + (more > 0 ? ` + ${more} more` : '');
      fail(
        `site occupancy sum ${total.toFixed(4)} > ${OCCUPANCY_TOLERANCE} at site ${i + 1}` +
          `${siteLabel(site)} [${site.frac.map((x) => x.toFixed(4)).join(', ')}]: ${what}`,
      );
    }
    const scale = total > 1 ? 1 / total : 1;
    const out: Site = {
      species: site.species.map((sp) => ({ element: sp.element, occupancy: sp.occupancy * scale })),
      frac: site.frac,
    };
    if (site.label !== undefined) out.label = site.label;
    return out;
  });
  return { lattice: structure.lattice.map((r) => [...r]) as Structure['lattice'], sites };
}
