/**
 * Structure → VASP 5 POSCAR text (Direct coordinates, 16 significant digits so that a round trip
 * keeps the canonical hash). POSCAR cannot express partial occupancy: a disordered structure is
 * rejected with BadInputError.
 */
import { BadInputError } from '../errors.js';
import type { Structure } from './structure.js';

export function structureToPoscar(s: Structure, comment = 'written by ionsieve'): string {
  const order: string[] = [];
  const byElement = new Map<string, Structure['sites']>();
  for (const site of s.sites) {
    if (site.species.length !== 1 || Math.abs(site.species[0]!.occupancy - 1) > 1e-8) {
      throw new BadInputError('POSCAR cannot hold a partially occupied or mixed site; use CIF or JSON');
    }
    const el = site.species[0]!.element;
    if (!byElement.has(el)) {
      byElement.set(el, []);
      order.push(el);
    }
    byElement.get(el)!.push(site);
  }
  const num = (x: number) => x.toPrecision(16).padStart(24);
  const lines = [
    comment.replace(/[\r\n]+/g, ' '),
    '1.0',
    ...s.lattice.map((row) => row.map(num).join('')),
    order.join(' '),
    order.map((el) => byElement.get(el)!.length).join(' '),
    'Direct',
    ...order.flatMap((el) => byElement.get(el)!.map((site) => site.frac.map(num).join(''))),
  ];
  return lines.join('\n') + '\n';
}
