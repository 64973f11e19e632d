/**
 * What the fuzz tests demand of every input, and their settings.
 *
 * Settings (environment, read only here): FUZZ_SEED (default fixed, so a plain `npm test` is
 * reproducible), FUZZ_RUNS (parser runs per property), FUZZ_DB_RUNS (addMaterials runs per
 * dialect). A failure prints the seed and the replay path; rerun with the same FUZZ_SEED.
 */
import assert from 'node:assert/strict';
import { findElement, latticeDeterminant, MIN_CELL_VOLUME_A3, type Structure } from '../../src/structure/index.js';
import type { NewMaterialRow } from '../../src/store/material.table.js';
import { MAX_CPU_MS_PER_INPUT } from '../structure/support.js';
import type { SandboxResult, ThrownError } from './sandbox.js';

export { MAX_CPU_MS_PER_INPUT };

function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n)) throw new Error(`${name} must be an integer, got "${raw}"`);
  return n;
}

export const FUZZ = {
  seed: intFromEnv('FUZZ_SEED', 20261127),
  runs: intFromEnv('FUZZ_RUNS', 1000),
  dbRuns: intFromEnv('FUZZ_DB_RUNS', 50),
};

/** fast-check parameters shared by the fuzz properties (the failing assertion is shown with the counterexample). */
export const FUZZ_PARAMS = { seed: FUZZ.seed, includeErrorInReport: true } as const;

/** An error message must name the problem, not echo the input back at length. */
export const MAX_MESSAGE_CHARS = 1000;

/** A short, printable excerpt of an input for assertion messages. */
export function excerpt(text: string, max = 300): string {
  const shown = JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);
  return `${shown} (${text.length} chars)`;
}

export function assertBadInputError(error: ThrownError, context: string, format?: string, text?: string): void {
  assert.ok(error.badInput, `${context}: threw ${error.name}: ${error.message.slice(0, 300)}\n${error.stack ?? ''}`);
  assert.equal(error.code, 'BAD_USER_INPUT', context);
  assert.ok(error.message.trim().length > 0, `${context}: empty error message`);
  assert.ok(error.message.length <= MAX_MESSAGE_CHARS, `${context}: error message of ${error.message.length} chars: ${error.message.slice(0, 200)}…`);
  if (error.parseError && format !== undefined) {
    assert.equal(error.format, format, `${context}: StructureParseError names format ${error.format}`);
    if (error.line !== undefined && text !== undefined) {
      const lines = text.split(/\r\n|\r|\n/).length;
      assert.ok(Number.isInteger(error.line) && error.line >= 1 && error.line <= lines, `${context}: line ${error.line} outside 1..${lines}`);
    }
  }
}

const isFiniteNumber = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

/** A stored row that a successful parse produced: a valid structure and finite facts. */
export function assertValidStructureRow(row: NewMaterialRow, maxSites: number, context: string): void {
  const s = JSON.parse(String(row.structure)) as Structure;
  const where = (what: string) => `${context}: ${what}`;
  assert.ok(Array.isArray(s.lattice) && s.lattice.length === 3, where('lattice is not 3 rows'));
  for (const r of s.lattice) assert.ok(Array.isArray(r) && r.length === 3 && r.every(isFiniteNumber), where(`lattice row ${JSON.stringify(r)} not 3 finite numbers`));
  const volume = Math.abs(latticeDeterminant(s.lattice));
  assert.ok(Number.isFinite(volume) && volume >= MIN_CELL_VOLUME_A3, where(`cell volume ${volume}`));
  assert.ok(s.sites.length >= 1 && s.sites.length <= maxSites, where(`${s.sites.length} sites (maxSites ${maxSites})`));
  s.sites.forEach((site, i) => {
    assert.ok(site.frac.length === 3 && site.frac.every((x) => isFiniteNumber(x) && x >= 0 && x < 1), where(`site ${i} frac ${JSON.stringify(site.frac)}`));
    assert.ok(site.species.length >= 1, where(`site ${i} has no species`));
    let total = 0;
    const seen = new Set<string>();
    for (const sp of site.species) {
      assert.ok(findElement(sp.element), where(`site ${i}: unknown element ${JSON.stringify(sp.element)}`));
      assert.ok(!seen.has(sp.element), where(`site ${i}: ${sp.element} twice`));
      seen.add(sp.element);
      assert.ok(isFiniteNumber(sp.occupancy) && sp.occupancy > 0 && sp.occupancy <= 1, where(`site ${i}: occupancy ${sp.occupancy}`));
      total += sp.occupancy;
    }
    assert.ok(total <= 1 + 1e-9, where(`site ${i}: occupancies sum to ${total}`));
  });
  assert.equal(row.nsites, s.sites.length, where('nsites'));
  assert.ok(typeof row.formula === 'string' && row.formula.length > 0, where(`formula ${JSON.stringify(row.formula)}`));
  assert.ok(Array.isArray(row.elements) && row.elements.length > 0 && row.elements.every((e) => findElement(e)), where(`elements ${JSON.stringify(row.elements)}`));
  for (const key of ['natoms', 'volume_a3', 'density_g_per_cm3'] as const) {
    const v = row[key];
    assert.ok(isFiniteNumber(v) && v > 0, where(`${key} = ${v}`));
  }
  assert.match(String(row.structure_hash), /^[0-9a-f]{64}$/, where('structure hash'));
}

/** A COMPOSITION row: a non-empty formula of known elements with finite positive amounts. */
export function assertValidCompositionRow(row: NewMaterialRow, context: string): void {
  assert.ok(typeof row.formula === 'string' && row.formula.length > 0, `${context}: formula ${JSON.stringify(row.formula)}`);
  assert.ok(typeof row.reduced_formula === 'string' && row.reduced_formula.length > 0, `${context}: reduced formula ${JSON.stringify(row.reduced_formula)}`);
  assert.ok(Array.isArray(row.elements) && row.elements.length > 0 && row.elements.every((e) => findElement(e)), `${context}: elements ${JSON.stringify(row.elements)}`);
  assert.ok(isFiniteNumber(row.natoms) && row.natoms > 0, `${context}: natoms ${row.natoms}`);
  // "NaN" is sodium nitride; "Infinity" or an exponent is not a formula.
  assert.ok(!/Infinity|\de[+-]?\d/.test(row.formula), `${context}: formula ${row.formula}`);
}

/** The whole contract for one parser input. */
export function assertParseOutcome(
  result: SandboxResult,
  input: { kind: 'structure'; format: string; text: string; maxSites: number } | { kind: 'composition'; text: string },
  describe: string,
): void {
  const context = `${describe}\ninput ${excerpt(input.text)}`;
  assert.notEqual(result.outcome, 'hang', `${context}: no answer after ${result.outcome === 'hang' ? result.wallMs : 0} ms (hang)`);
  if (result.outcome === 'died') assert.fail(`${context}: the parser worker died: ${result.error}`);
  if (result.outcome === 'hang') return;
  assert.ok(result.cpuMs <= MAX_CPU_MS_PER_INPUT, `${context}: took ${result.cpuMs.toFixed(0)} ms CPU > ${MAX_CPU_MS_PER_INPUT} ms`);
  if (result.outcome === 'threw') {
    assertBadInputError(result.error, context, input.kind === 'structure' ? input.format : undefined, input.text);
  } else if (input.kind === 'structure') {
    assertValidStructureRow(result.row, input.maxSites, context);
    const graphError = result.graphError;
    if (graphError) assert.ok(graphError.badInput, `${context}: its crystal graph threw ${graphError.name}: ${graphError.message}\n${graphError.stack ?? ''}`);
  } else {
    assertValidCompositionRow(result.row, context);
  }
}
