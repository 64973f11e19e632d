/**
 * Smooth k-nearest neighbourhoods: exact on textbook lattices, weights that sum to one, and weights
 * that move continuously with the positions (the property the slot-ordered k-NN lists lack).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kNearestNeighbours } from '../../src/graph/neighbours.js';
import { smoothNeighbourhoods, smoothWeight } from '../../src/graph/smooth-neighbours.js';

const cubic = (a: number) => [
  [a, 0, 0],
  [0, a, 0],
  [0, 0, a],
];

test('bcc with k = 12: both full shells (8 + 6) at weight one, the third shell (a√2) beyond the margin', () => {
  const nb = smoothNeighbourhoods(cubic(3.5), Float64Array.from([0, 0, 0, 0.5, 0.5, 0.5]), 12, 0.5);
  for (let i = 0; i < 2; i++) {
    const mine = [...nb.center.keys()].filter((e) => nb.center[e] === i);
    assert.equal(mine.length, 14);
    for (const e of mine) assert.ok(Math.abs(nb.weight[e]! - 1 / 14) < 1e-12);
    assert.ok(Math.abs(nb.kthDistance[i]! - 3.5) < 1e-9);
  }
});

test('a one-atom fcc cell: twelve images of the atom itself', () => {
  const a = 4;
  const fcc = [
    [0, a / 2, a / 2],
    [a / 2, 0, a / 2],
    [a / 2, a / 2, 0],
  ];
  const nb = smoothNeighbourhoods(fcc, Float64Array.from([0, 0, 0]), 12, 0.5);
  assert.equal(nb.center.length, 12);
  assert.ok(nb.neighbour.every((j) => j === 0));
  assert.ok(nb.distance.every((d) => Math.abs(d - a / Math.SQRT2) < 1e-9));
});

test('every atom keeps its k nearest at full weight, and weights sum to one', () => {
  const lattice = [
    [5.1, 0.2, 0],
    [0.4, 6.3, 0.1],
    [0.3, 0.2, 7.2],
  ];
  const frac = Float64Array.from([0.1, 0.2, 0.3, 0.6, 0.1, 0.9, 0.45, 0.55, 0.05, 0.8, 0.7, 0.4, 0.25, 0.85, 0.6]);
  const k = 8;
  const nb = smoothNeighbourhoods(lattice, frac, k, 0.5);
  const exact = kNearestNeighbours(lattice, frac, k, () => 0);
  for (let i = 0; i < 5; i++) {
    const edges = [...nb.center.keys()].filter((e) => nb.center[e] === i);
    const total = edges.reduce((s, e) => s + nb.weight[e]!, 0);
    assert.ok(Math.abs(total - 1) < 1e-12);
    const dK = exact.distance[i * k + k - 1]!;
    assert.ok(Math.abs(nb.kthDistance[i]! - dK) < 1e-12);
    const full = edges.filter((e) => nb.distance[e]! <= dK);
    assert.ok(full.length >= k);
    const maxWeight = Math.max(...edges.map((e) => nb.weight[e]!));
    for (const e of full) assert.equal(nb.weight[e], maxWeight);
    for (const e of edges) assert.ok(nb.distance[e]! < dK + 0.5);
  }
});

test('weights move continuously: a 1e-6 Å step changes no weight by more than 1e-4', () => {
  const lattice = cubic(4.2);
  // A near-tie at the k-th place: the slot lists of the paper's layer swap neighbours here.
  const frac = Float64Array.from([0, 0, 0, 0.5, 0.5, 0.5, 0.25, 0.25, 0.2499]);
  const before = smoothNeighbourhoods(lattice, frac, 6, 0.5);
  const moved = Float64Array.from(frac);
  moved[8] = 0.2499 + 1e-6 / 4.2;
  const after = smoothNeighbourhoods(lattice, moved, 6, 0.5);
  const weightOf = (nb: ReturnType<typeof smoothNeighbourhoods>, i: number) => {
    const map = new Map<string, number>();
    nb.center.forEach((c, e) => {
      if (c !== i) return;
      const key = `${nb.neighbour[e]}:${nb.distance[e]!.toFixed(3)}`;
      map.set(key, (map.get(key) ?? 0) + nb.weight[e]!);
    });
    return map;
  };
  for (let i = 0; i < 3; i++) {
    const a = weightOf(before, i);
    const b = weightOf(after, i);
    for (const key of new Set([...a.keys(), ...b.keys()])) assert.ok(Math.abs((a.get(key) ?? 0) - (b.get(key) ?? 0)) < 1e-4, `atom ${i} ${key}`);
  }
});

test('the fall-off is smooth and bounded', () => {
  assert.equal(smoothWeight(2, 2, 0.5), 1);
  assert.equal(smoothWeight(2.5, 2, 0.5), 0);
  assert.ok(Math.abs(smoothWeight(2.25, 2, 0.5) - 0.5) < 1e-12);
  assert.ok(smoothWeight(2.001, 2, 0.5) > 0.9999);
});
