/**
 * Merging of co-located sites: CIFs describe a mixed site (e.g. Li 0.5 + La 0.5) as several
 * atom-site rows at one position. We keep one site per position with a species → occupancy map;
 * the same element twice on one position adds its occupancies.
 */
import type { Site, SpeciesOccupancy, Vec3 } from './structure.js';
import { sameFracPositionPbc } from './lattice.js';

/** Fractional tolerance per component for "same position" (pymatgen CifParser's site_tolerance). */
export const SITE_TOLERANCE_FRAC = 1e-4;

function addSpecies(into: SpeciesOccupancy[], add: readonly SpeciesOccupancy[]): void {
  for (const s of add) {
    const existing = into.find((x) => x.element === s.element);
    if (existing) existing.occupancy += s.occupancy;
    else into.push({ element: s.element, occupancy: s.occupancy });
  }
}

/**
 * Sites at the same position (modulo lattice translations, within `toleranceFrac` per component)
 * become one site; the first site's position and label are kept. O(n²) over n sites, which is
 * fine for the ≤ 2000 sites we accept (4·10⁶ cheap comparisons at most).
 */
export function mergeCoLocatedSites(sites: readonly Site[], toleranceFrac = SITE_TOLERANCE_FRAC): Site[] {
  const merged: Site[] = [];
  for (const site of sites) {
    const target = merged.find((m) => sameFracPositionPbc(m.frac, site.frac, toleranceFrac));
    if (target) {
      addSpecies(target.species, site.species);
    } else {
      const copy: Site = { species: [], frac: [...site.frac] as Vec3 };
      if (site.label !== undefined) copy.label = site.label;
      addSpecies(copy.species, site.species);
      merged.push(copy);
    }
  }
  return merged;
}
