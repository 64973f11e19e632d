/**
 * The shipped model's embedding is a function of the crystal, not of how it is written down: over
 * the 254 labelled OBELiX structures, another site order, a supercell, another cell setting and an
 * origin shift each move the embedding by at most 5 % of the median distance between a structure
 * and its nearest other structure; 0.001–0.01 Å of noise on every position moves 95 % of them by at
 * most 5 % and none by more than 10 %; and each transformed structure finds its original as its
 * nearest stored neighbour.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { embedStructureBatch, initBackend, loadModel, type KnagcnModel, type ModelArtifact } from '../../src/model/index.js';
import { loadObelixDataset } from '../../src/training/obelix-dataset.js';
import type { Structure } from '../../src/structure/structure.js';

const DATA = fileURLToPath(new URL('../../data', import.meta.url));
/** Largest move allowed, as a fraction of the median nearest-other distance. */
const TOLERANCE = 0.05;

let model: KnagcnModel;
let originals: Structure[];
let base: Float32Array[];
let medianGap: number;

const distance = (a: Float32Array, b: Float32Array) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2;
  return Math.sqrt(s);
};

function embed(structures: readonly Structure[]): Float32Array[] {
  const { vectors, errors } = embedStructureBatch(model, structures);
  const failed = errors.findIndex((e) => e !== null);
  assert.equal(failed, -1, `structure ${failed}: ${errors[failed]}`);
  return vectors as Float32Array[];
}

before(async () => {
  await initBackend('auto');
  const artifact = JSON.parse(readFileSync(`${DATA}/models/default/artifact.json`, 'utf8')) as ModelArtifact;
  model = loadModel(artifact);
  originals = (await loadObelixDataset(`${DATA}/obelix`)).flatMap((e) => (e.structure ? [e.structure] : []));
  assert.equal(originals.length, 254);
  base = embed(originals);
  const gaps = base.map((e, i) => Math.min(...base.map((f, j) => (i === j ? Number.POSITIVE_INFINITY : distance(e, f)))));
  medianGap = gaps.sort((a, b) => a - b)[Math.floor(gaps.length / 2)]!;
  assert.ok(medianGap > 0, 'distinct structures must not share an embedding');
});

/** Deterministic pseudo-random numbers from a fast-check seed. */
function random(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => ((s = Math.imul(s ^ (s >>> 15), 2246822519) ^ Math.imul(s ^ (s >>> 13), 3266489917)) >>> 0) / 2 ** 32;
}

function permuted(s: Structure, rnd: () => number): Structure {
  const sites = [...s.sites];
  for (let i = sites.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [sites[i], sites[j]] = [sites[j]!, sites[i]!];
  }
  return { ...s, sites };
}

/** The cell doubled along one axis. */
function supercell(s: Structure, axis: number): Structure {
  const lattice = s.lattice.map((row, a) => (a === axis ? row.map((x) => 2 * x) : [...row])) as Structure['lattice'];
  const sites = s.sites.flatMap((site) => [0, 1].map((n) => ({ ...site, frac: site.frac.map((f, a) => (a === axis ? (f + n) / 2 : f)) as Structure['sites'][number]['frac'] })));
  return { ...s, lattice, sites };
}

/** Another setting of the same lattice: rows a' = a + b, b' = b, c' = c (unimodular), coordinates transformed to match. */
function sheared(s: Structure): Structure {
  const [a, b, c] = s.lattice;
  const lattice = [a!.map((x, i) => x + b![i]!), [...b!], [...c!]] as Structure['lattice'];
  // x = u·L = u'·L' with L' = M·L, M = [[1,1,0],[0,1,0],[0,0,1]] → u' = u·M⁻¹, M⁻¹ = [[1,−1,0],[0,1,0],[0,0,1]].
  const sites = s.sites.map((site) => ({ ...site, frac: [site.frac[0]!, site.frac[1]! - site.frac[0]!, site.frac[2]!] as Structure['sites'][number]['frac'] }));
  return { ...s, lattice, sites };
}

function shifted(s: Structure, t: readonly number[]): Structure {
  return { ...s, sites: s.sites.map((site) => ({ ...site, frac: site.frac.map((f, a) => f + t[a]!) as Structure['sites'][number]['frac'] })) };
}

/** Every position moved by a random Cartesian vector of length `amplitude` Å. */
function noisy(s: Structure, amplitude: number, rnd: () => number): Structure {
  const L = s.lattice;
  const det =
    L[0]![0]! * (L[1]![1]! * L[2]![2]! - L[1]![2]! * L[2]![1]!) -
    L[0]![1]! * (L[1]![0]! * L[2]![2]! - L[1]![2]! * L[2]![0]!) +
    L[0]![2]! * (L[1]![0]! * L[2]![1]! - L[1]![1]! * L[2]![0]!);
  // Rows of L⁻¹ (frac = cart · L⁻¹).
  const inv = [0, 1, 2].map((r) =>
    [0, 1, 2].map((c) => {
      const m = [0, 1, 2].filter((x) => x !== c);
      const n = [0, 1, 2].filter((x) => x !== r);
      const minor = L[m[0]!]![n[0]!]! * L[m[1]!]![n[1]!]! - L[m[0]!]![n[1]!]! * L[m[1]!]![n[0]!]!;
      return ((r + c) % 2 === 0 ? 1 : -1) * minor / det;
    }),
  );
  return {
    ...s,
    sites: s.sites.map((site) => {
      const u = [rnd() - 0.5, rnd() - 0.5, rnd() - 0.5];
      const norm = Math.hypot(...u) || 1;
      const d = u.map((x) => (x / norm) * amplitude);
      return { ...site, frac: site.frac.map((f, a) => f + d[0]! * inv[0]![a]! + d[1]! * inv[1]![a]! + d[2]! * inv[2]![a]!) as Structure['sites'][number]['frac'] };
    }),
  };
}

/**
 * Asserts rank 1 for every structure under `transform`, and its move: at most `tolerance` for every
 * structure, or (noise) for 95 % of them with at most `worst` for the rest.
 */
function assertInvariant(name: string, transform: (s: Structure, i: number) => Structure, limits: { p95?: number; worst?: number } = {}): void {
  const moved = embed(originals.map(transform));
  const rel = moved.map((v, i) => distance(v, base[i]!) / medianGap);
  moved.forEach((v, i) => {
    let nearest = 0;
    let best = Number.POSITIVE_INFINITY;
    base.forEach((b, j) => {
      const d = distance(v, b);
      if (d < best) [best, nearest] = [d, j];
    });
    // Materials whose originals coincide (same embedding) count as found.
    assert.ok(nearest === i || distance(base[nearest]!, base[i]!) === 0, `${name}: structure ${i} finds ${nearest} first, not itself`);
  });
  const sorted = [...rel].sort((a, b) => a - b);
  const worstIndex = rel.indexOf(sorted[sorted.length - 1]!);
  const p95 = sorted[Math.ceil(0.95 * sorted.length) - 1]!;
  const pct = (x: number) => `${(100 * x).toFixed(2)} %`;
  // The measured figures, for docs/RESULTS.md (a TAP comment in the test log).
  console.log(`${name}: median ${pct(sorted[Math.floor(sorted.length / 2)]!)}, p95 ${pct(p95)}, worst ${pct(sorted[sorted.length - 1]!)} of the median gap ${medianGap.toFixed(3)}`);
  assert.ok(p95 <= (limits.p95 ?? TOLERANCE), `${name}: 95th percentile move ${pct(p95)} of the median gap`);
  assert.ok(sorted[sorted.length - 1]! <= (limits.worst ?? TOLERANCE), `${name}: structure ${worstIndex} moved ${pct(sorted[sorted.length - 1]!)} of the median gap`);
}

test('site order does not matter', () => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 2 ** 31 - 1 }), (seed) => assertInvariant(`permutation ${seed}`, (s) => permuted(s, random(seed)))), { numRuns: 2 });
});

test('a supercell is the same crystal', () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 2 }), (axis) => assertInvariant(`2× along axis ${axis}`, (s) => supercell(s, axis))), { numRuns: 2 });
});

test('another cell setting and another origin are the same crystal', () => {
  assertInvariant('sheared setting', sheared);
  fc.assert(
    fc.property(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true })), (t) =>
      assertInvariant(`origin shift ${t.map((x) => x.toFixed(3)).join(',')}`, (s) => shifted(s, t)),
    ),
    { numRuns: 2 },
  );
});

test('0.001–0.01 Å of noise on every position is a small change', () => {
  // Measured on the shipped model (0.01 Å, session 8): median 0.4 %, 95th percentile 1.7 %, worst 6.9 % of the
  // median gap (the worst: split sites a fraction of an Å apart, where the
  // 0.2 Å-wide distance expansion is steep). The bounds leave room for other noise draws.
  fc.assert(
    fc.property(fc.double({ min: 0.001, max: 0.01, noNaN: true }), fc.integer({ min: 1, max: 2 ** 31 - 1 }), (amplitude, seed) =>
      assertInvariant(`noise ${amplitude.toFixed(4)} Å`, (s) => noisy(s, amplitude, random(seed)), { p95: TOLERANCE, worst: 2 * TOLERANCE }),
    ),
    { numRuns: 2 },
  );
  assertInvariant('noise 0.01 Å', (s) => noisy(s, 0.01, random(20261207)), { p95: TOLERANCE, worst: 2 * TOLERANCE });
});
