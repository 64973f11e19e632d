/**
 * Every rejected input gives a BadInputError (code BAD_USER_INPUT) whose message names the
 * problem, with the CIF/POSCAR line where one is known.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeStructure, parseComposition, parseStructure } from '../../src/structure/index.js';
import { StructureParseError } from '../../src/errors.js';
import { assertBadInput, assertBadInputWithinCpuBound, fixture } from './support.js';

const LICL_CIF = fixture('licl-sg225-no-ops.cif');
const MIXED_CIF = fixture('mixed-site-p-3.cif');
const POSCAR = fixture('licl.poscar');

test('empty text', () => {
  for (const format of ['CIF', 'POSCAR', 'JSON'] as const) {
    assertBadInput(() => parseStructure(format, ''), /empty/);
    assertBadInput(() => parseStructure(format, ' \n\t\n'), /empty/);
  }
});

test('binary text: NUL bytes or many non-printable characters', () => {
  assertBadInput(() => parseStructure('CIF', `data_x\n\u0000\u0000${LICL_CIF}`), /binary/);
  const junk = Buffer.from(Array.from({ length: 400 }, (_, i) => (i * 37) % 256)).toString('latin1').replace(/\u0000/g, '');
  assertBadInput(() => parseStructure('POSCAR', junk), /binary/);
  const invalidUtf8 = Buffer.from([0xff, 0xfe, 0xfd, 0x80, 0x81, 0x41]).toString('utf8');
  assertBadInput(() => parseStructure('CIF', invalidUtf8), /binary/);
});

test('truncated CIF loop (values not a multiple of the tags) names the line', () => {
  const truncated = LICL_CIF.trimEnd().replace(/\s+1\s*$/, '\n'); // drop the last occupancy value
  assertBadInput(() => parseStructure('CIF', truncated), /truncated loop/, /line \d+/);
  const err = (() => {
    try {
      parseStructure('CIF', truncated);
    } catch (e) {
      return e;
    }
  })();
  assert.ok(err instanceof StructureParseError);
  assert.equal(err.line, truncated.trimEnd().split('\n').length, 'line of the last value read');
});

test('CIF without a cell parameter', () => {
  assertBadInput(() => parseStructure('CIF', LICL_CIF.replace(/^_cell_length_b.*$/m, '')), /missing cell parameter _cell_length_b/, /line \d+/);
});

test('CIF without coordinates', () => {
  const noSites = LICL_CIF.split('loop_')[0]!;
  assertBadInput(() => parseStructure('CIF', noSites), /missing coordinates/);
  const noZ = LICL_CIF.replace(' _atom_site_fract_z\n', '').replace(/ 1\n/g, '\n');
  assertBadInput(() => parseStructure('CIF', noZ), /missing coordinates/);
  assertBadInput(() => parseStructure('JSON', JSON.stringify({ lattice: [[1, 0, 0], [0, 1, 0], [0, 0, 1]], sites: [{ species: { Li: 1 } }] })), /missing coordinates/);
});

test('unknown element (CIF with line, POSCAR, JSON, OPTIMADE)', () => {
  assertBadInput(() => parseStructure('CIF', LICL_CIF.replace('Cl-', 'Xx')), /unknown element "Xx"/, /line \d+/);
  assertBadInput(() => parseStructure('POSCAR', POSCAR.replace('Li   Cl', 'Li   Qq')), /unknown element "Qq"/, /line 6/);
  assertBadInput(
    () => parseStructure('JSON', JSON.stringify({ lattice: [[3, 0, 0], [0, 3, 0], [0, 0, 3]], sites: [{ frac: [0, 0, 0], species: { Zz: 1 } }] })),
    /unknown element "Zz"/,
  );
  assertBadInput(
    () => parseStructure('JSON', JSON.stringify({ lattice_vectors: [[3, 0, 0], [0, 3, 0], [0, 0, 3]], species_at_sites: ['X'], cartesian_site_positions: [[0, 0, 0]] })),
    /unknown element "X"/,
  );
});

test('singular or zero-volume lattice', () => {
  assertBadInput(() => parseStructure('POSCAR', POSCAR.replace('0.0000000000    0.0000000000    5.1300000000', '5.1300000000    5.1300000000    0.0000000000')), /singular lattice/);
  assertBadInput(() => parseStructure('CIF', LICL_CIF.replace(/_cell_angle_(alpha|beta|gamma)   90/g, '_cell_angle_$1   120')), /singular lattice/);
  assertBadInput(
    () => parseStructure('JSON', JSON.stringify({ lattice: [[3, 0, 0], [0, 3, 0], [0, 0, 0]], sites: [{ frac: [0, 0, 0], species: { Li: 1 } }] })),
    /singular lattice/,
  );
});

test('site occupancy sum above 1.05 after merging; up to 1.05 is renormalised', () => {
  const over = MIXED_CIF.replace('0.68     0.03', '0.75     0.03'); // Li2 0.34 + Li3 0.75 = 1.09
  assertBadInput(() => parseStructure('CIF', over), /occupancy sum 1\.09/);
  const s = parseStructure('CIF', MIXED_CIF); // 0.34 + 0.68 = 1.02 → 1
  assert.ok(s.sites.every((site) => site.species.reduce((a, b) => a + b.occupancy, 0) <= 1 + 1e-12));
  assertBadInput(
    () => parseStructure('JSON', JSON.stringify({ lattice: [[3, 0, 0], [0, 3, 0], [0, 0, 3]], sites: [{ frac: [0, 0, 0], species: { Li: 0.6, Na: 0.6 } }] })),
    /occupancy/,
  );
  // Two full atoms on one position (POSCAR) is a sum of 2.
  assertBadInput(() => parseStructure('POSCAR', POSCAR.replace('0.5  0.5  0.0\n', '0.0  0.0  0.0\n')), /occupancy sum 2/);
});

test('more sites than maxSites (default 2000, configurable)', () => {
  assertBadInput(() => parseStructure('CIF', LICL_CIF, { maxSites: 7 }), /too many sites: 8 > maxSites 7/);
  assert.equal(parseStructure('CIF', LICL_CIF, { maxSites: 8 }).sites.length, 8);
  const big = {
    lattice: [[100, 0, 0], [0, 100, 0], [0, 0, 100]],
    sites: Array.from({ length: 2001 }, (_, i) => ({ frac: [i / 2001, 0, 0], species: { Li: 1 } })),
  };
  assertBadInput(() => parseStructure('JSON', JSON.stringify(big)), /too many sites: 2001 > maxSites 2000/);
});

test('text over maxTextBytes (default 5 MiB, configurable)', () => {
  assertBadInput(() => parseStructure('CIF', LICL_CIF, { maxTextBytes: 100 }), /too large/);
  const huge = `${LICL_CIF}\n#${'x'.repeat(5 * 1024 * 1024)}\n`;
  assertBadInput(() => parseStructure('CIF', huge), /too large/);
});

test('NaN / Infinity coordinates', () => {
  assertBadInput(() => parseStructure('CIF', LICL_CIF.replace('0.5  0.5  0.5', 'NaN  0.5  0.5')), /not a finite number/, /line \d+/);
  assertBadInput(() => parseStructure('POSCAR', POSCAR.replace('0.5  0.5  0.5', 'Infinity  0.5  0.5')), /not a finite number/, /line 13/);
  assertBadInput(() => parseStructure('JSON', '{"lattice":[[3,0,0],[0,3,0],[0,0,3]],"sites":[{"frac":[1e999,0,0],"species":{"Li":1}}]}'), /NaN or Infinity coordinates/);
});

test('malformed text per format', () => {
  assertBadInput(() => parseStructure('JSON', '{"lattice": '), /invalid JSON/);
  assertBadInput(() => parseStructure('JSON', '[1, 2]'), /expected a JSON object/);
  assertBadInput(() => parseStructure('CIF', "data_x\n_title 'unterminated\n"), /unterminated quoted string/, /line 2/);
  assertBadInput(() => parseStructure('CIF', 'just some words\n'), /unexpected value/, /line 1/);
  assertBadInput(() => parseStructure('CIF', LICL_CIF.replace('_symmetry_Int_Tables_number   225', '_symmetry_Int_Tables_number   999').replace(/^_symmetry_space_group_name_H-M.*$/m, '')), /space group number/);
  assertBadInput(() => parseStructure('CIF', fixture('licl-hm-symbol-only.cif').replace("'F m -3 m'", "'Q 42'")), /unknown space group symbol/);
  assertBadInput(() => parseStructure('POSCAR', 'comment\n1.0\n1 0 0\n'), /line \d+/);
  assertBadInput(() => parseStructure('CIF' as never, LICL_CIF, { maxSites: 1 }), /maxSites/);
  assertBadInput(() => parseStructure('XYZ' as never, 'Li 0 0 0'), /unknown structure format/);
});

// ---- Regressions found by the fuzz test (test/fuzz/) -------------------------------------------

test('JSON nested too deeply for JSON.stringify where a number is expected: BAD_USER_INPUT, not RangeError', () => {
  const deep = `${'['.repeat(20000)}${']'.repeat(20000)}`;
  assertBadInput(
    () => parseStructure('JSON', `{"lattice":[[${deep},0,0],[0,3,0],[0,0,3]],"sites":[{"frac":[0,0,0],"species":{"Li":1}}]}`),
    /lattice\[0\]\[0\] must be a number, got an array of 1/,
  );
  const huge = JSON.stringify({ lattice: [['x'.repeat(1e6), 0, 0], [0, 3, 0], [0, 0, 3]], sites: [] });
  assertBadInput(() => parseStructure('JSON', huge), /must be a number, got a string of 1000000 characters$/);
});

test('a long run of digits followed by junk is rejected in linear time (CIF number, symmetry term)', () => {
  const digits = `${'1'.repeat(100_000)}x`; // ~14 s of regex backtracking before the fix
  assertBadInputWithinCpuBound(
    () => parseStructure('CIF', LICL_CIF.replace('_cell_length_a   5.1300(2)', `_cell_length_a   ${digits}`)),
    /_cell_length_a .* is not a finite number/,
    /line \d+/,
  );
  assertBadInputWithinCpuBound(
    () => parseStructure('CIF', LICL_CIF.replace('loop_', `loop_\n_symmetry_equiv_pos_as_xyz\n'x+${digits.replace('x', 'q')},y,z'\nloop_`)),
    /cannot parse symmetry operation/,
  );
});

test('error messages quote at most 40 characters of the input, escaped', () => {
  const long = 'Q'.repeat(100_000);
  const cases: [string, () => unknown, RegExp][] = [
    ['CIF element', () => parseStructure('CIF', LICL_CIF.replace('Cl-', long)), /unknown element "Q{40}…"/],
    ['CIF number', () => parseStructure('CIF', LICL_CIF.replace('_cell_length_a   5.1300(2)', `_cell_length_a   ${long}`)), /_cell_length_a "Q{40}…" is not a finite number/],
    ['CIF tag', () => parseStructure('CIF', `data_x\n_${long}\n`), /tag "_Q{39}…" has no value/],
    ['CIF symmetry operation', () => parseStructure('CIF', LICL_CIF.replace('loop_', `loop_\n_symmetry_equiv_pos_as_xyz\n'${long}'\nloop_`)), /cannot parse symmetry operation "Q{40}…"/],
    ['POSCAR scale line', () => parseStructure('POSCAR', POSCAR.replace('   1.0\n', `${long}\n`)), /scale factor: "Q{40}…" is not a finite number/],
    ['POSCAR control characters', () => parseStructure('POSCAR', POSCAR.replace('Li   Cl', 'Li\u0001\u001b[2J Cl')), /unknown element "Li\\u0001\\u001b\[2J"/],
    ['JSON species key', () => parseStructure('JSON', JSON.stringify({ lattice: [[3, 0, 0], [0, 3, 0], [0, 0, 3]], sites: [{ frac: [0, 0, 0], species: { [long]: 'x' } }] })), /species\["Q{40}…"\]/],
    ['JSON species name', () => parseStructure('JSON', JSON.stringify({ lattice_vectors: [[3, 0, 0], [0, 3, 0], [0, 0, 3]], species_at_sites: [long], cartesian_site_positions: [[0, 0, 0]], species: [] })), /"Q{40}…" is not in species/],
    ['composition', () => parseComposition(`Li${long}`), /cannot parse composition "LiQ{38}…"/],
  ];
  for (const [what, fn, pattern] of cases) {
    assert.throws(fn, (err: unknown) => {
      assert.ok(err instanceof StructureParseError || (err instanceof Error && 'code' in err && err.code === 'BAD_USER_INPUT'), `${what}: ${String(err)}`);
      assert.match(err.message, pattern, what);
      assert.ok(err.message.length < 200, `${what}: message of ${err.message.length} characters`);
      return true;
    });
  }
});

test('a lattice of finite entries whose volume overflows (1e200 Å edges) is rejected, not stored with Infinity', () => {
  const lattice = [[1e200, 0, 0], [0, 1e200, 0], [0, 0, 1e200]];
  assertBadInput(() => parseStructure('JSON', JSON.stringify({ lattice, sites: [{ frac: [0, 0, 0], species: { Li: 1 } }] })), /cell volume overflows/);
  assertBadInput(() => parseStructure('POSCAR', POSCAR.replace('   1.0\n', '   1e150\n')), /cell volume overflows/);
  assertBadInput(() => parseStructure('CIF', LICL_CIF.replace(/_cell_length_([abc])   5.1300\(2\)/g, '_cell_length_$1   1e200')), /cell volume overflows/);
});

test('an occupancy below 1e-4 is rejected (the formula would show it as "Li0", or not at all)', () => {
  const json = (occu: number) => JSON.stringify({ lattice: [[3, 0, 0], [0, 3, 0], [0, 0, 3]], sites: [{ frac: [0, 0, 0], species: [{ element: 'Li', occu }] }] });
  assertBadInput(() => parseStructure('JSON', json(1e-300)), /occupancy 1e-300 for Li, below the smallest accepted 0.0001/);
  assertBadInput(() => parseStructure('JSON', json(5e-324)), /below the smallest accepted/);
  assertBadInput(() => parseStructure('JSON', json(2e-5)), /below the smallest accepted/);
  assert.equal(describeStructure(parseStructure('JSON', json(1e-4))).formula, 'Li0.0001');
  assertBadInput(() => parseStructure('CIF', MIXED_CIF.replace('0.68     0.03', '1e-300   0.03')), /below the smallest accepted/, /CIF/);
});

test('a symmetry-operation list longer than any space group is rejected; repeats are dropped', () => {
  const withOps = (ops: string[]) => LICL_CIF.replace('loop_', `loop_\n_symmetry_equiv_pos_as_xyz\n${ops.join('\n')}\nloop_`);
  const distinct = Array.from({ length: 20_000 }, (_, i) => `'x+${i}/20000,y,z'`); // ~5 s of orbit comparisons before the fix
  assertBadInputWithinCpuBound(() => parseStructure('CIF', withOps(distinct)), /^CIF line 206: more than 192 distinct symmetry operations/);
  const repeated = Array.from({ length: 20_000 }, (_, i) => (i % 2 ? "'x,y,z'" : "'x+1,y-2,z'"));
  const s = parseStructure('CIF', withOps(repeated)); // one operation: the two sites stay two
  assert.equal(s.sites.length, 2);
});

test('a text with far more sites than maxSites is rejected before any per-site work', () => {
  const n = 200_000;
  const coords = Array.from({ length: n }, (_, i) => `${(i / n).toFixed(8)} 0.5 0.5`).join('\n');
  // POSCAR: at the counts line, without reading 200,000 coordinate lines (atoms never merge).
  assertBadInputWithinCpuBound(
    () => parseStructure('POSCAR', `many\n1.0\n100 0 0\n0 100 0\n0 0 100\nLi\n${n}\nDirect\n${coords}\n`),
    /^POSCAR line 7: too many sites: 200000 atoms > maxSites 2000$/,
  );
  // JSON: rows may merge (mixed sites), so up to 10 × maxSites rows are merged; more are not.
  const json = JSON.stringify({
    lattice_vectors: [[100, 0, 0], [0, 100, 0], [0, 0, 100]],
    species_at_sites: Array<string>(n).fill('Li'),
    cartesian_site_positions: Array.from({ length: n }, (_, i) => [(100 * i) / n, 50, 50]),
  });
  assertBadInputWithinCpuBound(() => parseStructure('JSON', json), /too many sites: 200000 site rows > 10 × maxSites 2000/);
});

test('CIF cell lengths must be positive and angles within (0°, 180°)', () => {
  const cell = (tag: string, value: string) => LICL_CIF.replace(new RegExp(`^${tag}.*$`, 'm'), `${tag}   ${value}`);
  assertBadInput(() => parseStructure('CIF', cell('_cell_length_a', '-5.13')), /_cell_length_a -5.13 Å is outside \(0, ∞\)/, /line 6:/); // was a mirrored cell
  assertBadInput(() => parseStructure('CIF', cell('_cell_angle_alpha', '0')), /_cell_angle_alpha 0 ° is outside \(0, 180\)/, /line 9:/); // was "NaN entries"
  assertBadInput(() => parseStructure('CIF', cell('_cell_angle_gamma', '270')), /_cell_angle_gamma 270 ° is outside/);
  assertBadInput(() => parseStructure('CIF', cell('_cell_angle_beta', '180')), /outside \(0, 180\)/);
  assert.equal(parseStructure('CIF', cell('_cell_angle_gamma', '179.9')).sites.length, 8);
});

test('a site label the store cannot keep (NUL, unpaired surrogate) is rejected', () => {
  // JSON escapes reach the label although the text itself has no NUL; jsonb refused them (INTERNAL_SERVER_ERROR).
  const json = (label: string) => JSON.stringify({ lattice: [[3, 0, 0], [0, 3, 0], [0, 0, 3]], sites: [{ frac: [0, 0, 0], species: { Li: 1 }, label }] });
  assertBadInput(() => parseStructure('JSON', json('Li\u0000')), /site 1 label "Li\\u0000" contains a NUL character or an unpaired surrogate/);
  assertBadInput(() => parseStructure('JSON', json('\ud800')), /site 1 label "\\ud800" contains/);
  assert.equal(parseStructure('JSON', json('Li1 😀')).sites[0]!.label, 'Li1 😀');
});
