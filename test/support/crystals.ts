/** Tiny hand-built crystals and symmetry helpers for graph/model tests. */
import { mulberry32 } from '../../src/model/random.js';
import type { Mat3, Structure, Vec3 } from '../../src/structure/structure.js';

export function single(element: string, frac: Vec3) {
  return { species: [{ element, occupancy: 1 }], frac };
}

/** fcc primitive cell (one atom), conventional edge a (Å). */
export function fccPrimitive(a: number, element = 'Cu'): Structure {
  const h = a / 2;
  return { lattice: [[0, h, h], [h, 0, h], [h, h, 0]], sites: [single(element, [0, 0, 0])] };
}

/** bcc primitive cell (one atom), conventional edge a (Å). */
export function bccPrimitive(a: number, element = 'Fe'): Structure {
  const h = a / 2;
  return { lattice: [[-h, h, h], [h, -h, h], [h, h, -h]], sites: [single(element, [0, 0, 0])] };
}

/** Deterministic PRNG for reproducible random crystals (the project's one: src/model/random.ts). */
export const seededRandom = mulberry32;

/** A random triclinic cell with `n` atoms and no exact distance ties (generic positions). */
export function randomCrystal(seed: number, n: number, elements = ['Li', 'O', 'P', 'S', 'La']): Structure {
  const rnd = seededRandom(seed);
  const lattice: Mat3 = [
    [4 + 2 * rnd(), 0.5 * rnd(), 0.3 * rnd()],
    [0.4 * rnd(), 4.5 + 2 * rnd(), 0.2 * rnd()],
    [0.3 * rnd(), 0.6 * rnd(), 5 + 2 * rnd()],
  ];
  const sites = Array.from({ length: n }, (_, i) => ({
    species:
      i % 3 === 2
        ? [{ element: elements[i % elements.length]!, occupancy: 0.6 }, { element: 'Na', occupancy: 0.3 }]
        : [{ element: elements[i % elements.length]!, occupancy: 1 }],
    frac: [rnd(), rnd(), rnd()] as Vec3,
  }));
  return { lattice, sites };
}

/** Random proper or improper rotation matrix (orthogonal), from a seed. */
export function randomOrthogonal(seed: number, reflect = false): number[][] {
  const rnd = seededRandom(seed);
  // Gram–Schmidt on random vectors.
  const v = [0, 1, 2].map(() => [rnd() - 0.5, rnd() - 0.5, rnd() - 0.5]);
  const q: number[][] = [];
  for (const x of v) {
    const y = [...x];
    for (const b of q) {
      const d = y[0]! * b[0]! + y[1]! * b[1]! + y[2]! * b[2]!;
      for (let c = 0; c < 3; c++) y[c]! -= d * b[c]!;
    }
    const nrm = Math.hypot(y[0]!, y[1]!, y[2]!);
    q.push(y.map((c) => c / nrm));
  }
  if (reflect) q[2] = q[2]!.map((c) => -c);
  return q;
}

/** Rotates the Cartesian frame: every lattice row a → Q a. Fractional coordinates are unchanged. */
export function rotateStructure(s: Structure, q: number[][]): Structure {
  const lattice = s.lattice.map((row) =>
    [0, 1, 2].map((r) => q[r]![0]! * row[0] + q[r]![1]! * row[1] + q[r]![2]! * row[2]),
  ) as Mat3;
  return { lattice, sites: s.sites };
}

/** Shifts the origin by a fractional vector t (every site moves by t, then wraps). */
export function translateStructure(s: Structure, t: Vec3): Structure {
  return {
    lattice: s.lattice,
    sites: s.sites.map((site) => ({
      ...site,
      frac: site.frac.map((x, a) => {
        const y = x + t[a]!;
        return y - Math.floor(y);
      }) as Vec3,
    })),
  };
}

/** n0 × n1 × n2 supercell (sites of image (i0,i1,i2) appended in that loop order). */
export function supercell(s: Structure, n: [number, number, number]): Structure {
  const lattice = s.lattice.map((row, a) => row.map((x) => x * n[a]!)) as Mat3;
  const sites = [];
  for (let i0 = 0; i0 < n[0]; i0++) {
    for (let i1 = 0; i1 < n[1]; i1++) {
      for (let i2 = 0; i2 < n[2]; i2++) {
        for (const site of s.sites) {
          sites.push({
            ...site,
            frac: [(site.frac[0] + i0) / n[0], (site.frac[1] + i1) / n[1], (site.frac[2] + i2) / n[2]] as Vec3,
          });
        }
      }
    }
  }
  return { lattice, sites };
}
