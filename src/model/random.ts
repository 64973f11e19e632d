/**
 * Seeded pseudo-random numbers (mulberry32: 32-bit state, period 2^32; fine for sampling, not for
 * cryptography) for initialisers, splits, bagging and shuffles: no Math.random, so every training
 * and evaluation is reproducible from its seed. The one RNG module of the project.
 */
export type Random = () => number;

/** Uniform numbers in [0, 1), fully determined by `seed` (used as seed >>> 0). */
export function mulberry32(seed: number): Random {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The stream of splits and bagging for a seed (any integer): mulberry32 of the seed mixed with
 * 0x9e3779b9, so it is not the initialisers' stream of the same seed. Recorded evaluations
 * (docs/RESULTS.md) depend on it: do not change the mixing.
 */
export function createRandom(seed: number): Random {
  return mulberry32(Math.trunc(seed) ^ 0x9e3779b9);
}

/** Uniform integer in [0, n). */
export function randomInt(random: Random, n: number): number {
  return Math.floor(random() * n);
}

/** Stable 32-bit hash of a string (FNV-1a), to derive per-name streams from one seed. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** Fisher–Yates shuffle into a new array. */
export function shuffled<T>(items: readonly T[], random: Random): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = randomInt(random, i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
