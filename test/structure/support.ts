/** Shared helpers for the structure tests (not a test file itself). */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BadInputError } from '../../src/errors.js';
import { fracToCart, type Mat3, type Site, type Structure, type Vec3 } from '../../src/structure/index.js';

export const FIXTURES = join(import.meta.dirname, '../fixtures/structures');
export const OBELIX_DIR = join(import.meta.dirname, '../../data/obelix');
export const OBELIX_CIFS = join(OBELIX_DIR, 'cifs');

export function fixture(name: string): string {
  return readFileSync(join(FIXTURES, name), 'utf8');
}

/** Cartesian distance (Å) between two fractional positions, nearest periodic image. */
export function minImageDistance(a: Vec3, b: Vec3, lattice: Mat3): number {
  const d = [0, 1, 2].map((k) => {
    const x = a[k]! - b[k]!;
    return x - Math.round(x);
  }) as Vec3;
  const c = fracToCart(d, lattice);
  return Math.hypot(c[0], c[1], c[2]);
}

function speciesMatch(a: Site, b: Site, tol: number): boolean {
  return (
    a.species.length === b.species.length &&
    a.species.every((sa) => b.species.some((sb) => sb.element === sa.element && Math.abs(sb.occupancy - sa.occupancy) <= tol))
  );
}

/**
 * Problems found when comparing two structures given in the same fractional basis: site count,
 * and a one-to-one matching of sites by species (±occTol) and position (≤ posTolA Å).
 */
export function siteMismatches(expected: Structure, actual: Structure, posTolA = 1e-3, occTol = 1e-3): string[] {
  const problems: string[] = [];
  if (expected.sites.length !== actual.sites.length) {
    problems.push(`${actual.sites.length} sites, expected ${expected.sites.length}`);
  }
  const used = new Set<number>();
  for (const e of expected.sites) {
    const i = actual.sites.findIndex(
      (a, k) => !used.has(k) && speciesMatch(e, a, occTol) && minImageDistance(e.frac, a.frac, expected.lattice) <= posTolA,
    );
    if (i < 0) problems.push(`no match for ${JSON.stringify(e)}`);
    else used.add(i);
  }
  return problems;
}

/** Asserts that fn throws a BadInputError (code BAD_USER_INPUT) whose message matches every pattern. */
export function assertBadInput(fn: () => unknown, ...patterns: RegExp[]): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof BadInputError, `expected BadInputError, got ${String(err)}`);
    assert.equal(err.code, 'BAD_USER_INPUT');
    for (const p of patterns) assert.match(err.message, p);
    return true;
  });
}

/**
 * The denial-of-service bound of issue 6 ("no input taking more than 1 s"): not a speed target but a
 * guard against super-linear parsing. Measured as CPU time, so load on a shared machine does not flake it.
 */
export const MAX_CPU_MS_PER_INPUT = 1000;

/** Runs fn and returns the CPU time it took (ms) with what it threw, if anything. */
export function cpuTime(fn: () => unknown): { ms: number; error?: unknown } {
  const start = process.cpuUsage();
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  const used = process.cpuUsage(start);
  return { ms: (used.user + used.system) / 1000, error };
}

/** Asserts that fn rejects its input with BadInputError (as assertBadInput) within MAX_CPU_MS_PER_INPUT. */
export function assertBadInputWithinCpuBound(fn: () => unknown, ...patterns: RegExp[]): void {
  const { ms, error } = cpuTime(fn);
  assertBadInput(() => {
    if (error !== undefined) throw error;
  }, ...patterns);
  assert.ok(ms <= MAX_CPU_MS_PER_INPUT, `took ${ms.toFixed(0)} ms of CPU, more than ${MAX_CPU_MS_PER_INPUT} ms`);
}
