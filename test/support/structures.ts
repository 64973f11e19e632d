/** Tiny hand-built structures as text, for store and service tests. */

/**
 * A cubic cell of edge `a` Å with one ordered site per element, placed along the body diagonal
 * (element i at (i/n, i/n, i/n)), in the JSON form our data files use. Different `a` → different
 * structure hash.
 */
export function cubicStructureJson(a: number, elements: readonly string[] = ['Li', 'Cl']): string {
  const n = elements.length;
  return JSON.stringify({
    lattice: [
      [a, 0, 0],
      [0, a, 0],
      [0, 0, a],
    ],
    sites: elements.map((element, i) => ({ frac: [i / n, i / n, i / n], species: { [element]: 1 } })),
  });
}

/** The same cubic cell as a VASP 5 POSCAR. */
export function cubicPoscar(a: number, elements: readonly string[] = ['Li', 'Cl']): string {
  const n = elements.length;
  return [
    elements.join(''),
    '1.0',
    `${a} 0 0`,
    `0 ${a} 0`,
    `0 0 ${a}`,
    elements.join(' '),
    elements.map(() => '1').join(' '),
    'Direct',
    ...elements.map((_, i) => `${i / n} ${i / n} ${i / n}`),
    '',
  ].join('\n');
}
