/**
 * Merging of co-located sites: CIFs describe a mixed site (e.g. Li 0.5 + La 0.5) as several
 * atom-site rows at one position. We keep one site per position with a species → occupancy map;
 * the same element twice on one position adds its occupancies.
 */
import type { Site, SpeciesOccupancy, Vec3 } from './structure.js';
import { sameFracPositionPbc, wrapFrac } from './lattice.js';

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
 * become one site; the first site's position and label are kept, and a site joins the earliest
 * kept site it matches.
 *
 * Kept sites are filed in a grid of cells at least `toleranceFrac` wide, so a site is compared only
 * with those in its own and the 26 neighbouring cells (periodically): O(n) for n sites instead of
 * the O(n²) of comparing every pair, which took seconds on a text of 60,000 sites before the
 * maxSites check could reject it. Coordinates must be finite.
 */
export function mergeCoLocatedSites(sites: readonly Site[], toleranceFrac = SITE_TOLERANCE_FRAC): Site[] {
  // One cell fewer than 1/tolerance: cells are then wider than the tolerance by a margin far above
  // float noise, so two matching positions are never more than one cell apart. (At most 2^17 cells
  // per axis, so a cell number fits a safe integer; wider cells only cost comparisons.)
  const cells = Math.max(1, Math.min(2 ** 17, Math.floor(1 / toleranceFrac) - 1));
  const cellOf = (x: number) => Math.min(cells - 1, Math.floor(wrapFrac(x) * cells));
  // Neighbour offsets along one axis; fewer with fewer than 3 cells, where ±1 would repeat.
  const offsets = cells >= 3 ? [-1, 0, 1] : cells === 2 ? [0, 1] : [0];
  const grid = new Map<number, number[]>();
  const merged: Site[] = [];
  for (const site of sites) {
    const ci = cellOf(site.frac[0]);
    const cj = cellOf(site.frac[1]);
    const ck = cellOf(site.frac[2]);
    let target = -1;
    for (const di of offsets) {
      const i = (ci + di + cells) % cells;
      for (const dj of offsets) {
        const j = (cj + dj + cells) % cells;
        for (const dk of offsets) {
          const candidates = grid.get((i * cells + j) * cells + ((ck + dk + cells) % cells));
          if (!candidates) continue;
          for (const m of candidates) {
            if ((target < 0 || m < target) && sameFracPositionPbc(merged[m]!.frac, site.frac, toleranceFrac)) target = m;
          }
        }
      }
    }
    if (target >= 0) {
      addSpecies(merged[target]!.species, site.species);
    } else {
      const copy: Site = { species: [], frac: [...site.frac] as Vec3 };
      if (site.label !== undefined) copy.label = site.label;
      addSpecies(copy.species, site.species);
      const cell = (ci * cells + cj) * cells + ck;
      const list = grid.get(cell);
      if (list) list.push(merged.length);
      else grid.set(cell, [merged.length]);
      merged.push(copy);
    }
  }
  return merged;
}
