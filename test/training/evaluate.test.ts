import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { evaluate, formatResultsTable, type EvaluationMethod } from '../../src/training/evaluate.js';
import { compositionKnnMethod, compositionRandomForestMethod, everyRowMethod, gnnMethods } from '../../src/training/evaluation-methods.js';
import { loadObelixDataset, type LabelledEntry } from '../../src/training/obelix-dataset.js';
import { BadInputError } from '../../src/errors.js';

/** A cubic two-site P1 cell "Li X" with lattice parameter a (Å). */
function cif(formula: string, other: string, a: number): string {
  return [
    `data_${formula}`,
    `_cell_length_a ${a}`, `_cell_length_b ${a}`, `_cell_length_c ${a}`,
    '_cell_angle_alpha 90', '_cell_angle_beta 90', '_cell_angle_gamma 90',
    "_symmetry_space_group_name_H-M 'P 1'",
    'loop_', '_atom_site_label', '_atom_site_type_symbol', '_atom_site_fract_x', '_atom_site_fract_y', '_atom_site_fract_z', '_atom_site_occupancy',
    'Li1 Li 0 0 0 1', `${other}1 ${other} 0.5 0.5 0.5 1`, '',
  ].join('\n');
}

const ANIONS = ['F', 'Cl', 'Br', 'I', 'O', 'S', 'Se', 'N'];

/** 32 rows: Li_x A_y compositions, FAST when the anion is a halide or S; every other row has a CIF. */
async function writeMiniDataset(dir: string): Promise<void> {
  await mkdir(join(dir, 'cifs'), { recursive: true });
  const header = 'id,formula,label,sigma_rt_S_per_cm,has_structure,cif_path,family,cif_formula_reduced';
  const lines = [header];
  for (let i = 0; i < 32; i++) {
    const anion = ANIONS[i % ANIONS.length]!;
    const formula = `Li${1 + Math.floor(i / 8)}${anion}${1 + (i % 3)}`;
    const fast = ['F', 'Cl', 'Br', 'S'].includes(anion) !== (i % 11 === 5); // a little label noise
    const withStructure = i % 2 === 0;
    const id = `r${i}`;
    if (withStructure) await writeFile(join(dir, 'cifs', `${id}.cif`), cif(formula, anion, 3 + (i % 5) * 0.3));
    lines.push([id, formula, fast ? 'high' : 'low', fast ? '1e-3' : '1e-7', withStructure ? 'True' : 'False', withStructure ? `cifs/${id}.cif` : '', i % 8 === 1 ? 'halide' : '', i === 2 ? 'LiBr' : withStructure ? formula : ''].join(','));
  }
  await writeFile(join(dir, 'manifest.csv'), lines.join('\n') + '\n');
}

/** A structure method whose score is a fixed function of the row (no training), to test the harness. */
const lookupMethod: EvaluationMethod = {
  name: 'lookup',
  requiresStructure: true,
  async run({ train, test }) {
    const score = (e: LabelledEntry) => e.structure!.lattice[0][0] + (e.label === 1 ? 0.5 : 0) * (e.id.length % 2);
    return [
      { variant: 'lookup A', testScores: test.map(score), calibrationScores: train.map(score), defaultThreshold: 3.5 },
      { variant: 'lookup B', attributes: { distance: 'COSINE', neighbours: 4 }, testScores: test.map((e) => -score(e)), calibrationScores: train.map((e) => -score(e)), defaultThreshold: 0 },
    ];
  },
};

test('the loader reads labels, compositions, CIF structures and composition-only rows', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ionsieve-eval-'));
  try {
    await writeMiniDataset(dir);
    const entries = await loadObelixDataset(dir);
    assert.equal(entries.length, 32);
    assert.equal(entries.filter((e) => e.structure !== null).length, 16);
    assert.equal(entries[0]!.label, 1); // Li1F1
    assert.deepEqual(entries[0]!.amounts, { Li: 1, F: 1 });
    assert.equal(entries[0]!.cifFormula, null); // LiF is the reported composition
    assert.equal(entries[2]!.cifFormula, 'LiBr'); // reported Li1Br3
    assert.equal(entries[1]!.family, 'halide');
    assert.equal(entries[3]!.family, null);
    assert.equal(entries[0]!.structure!.sites.length, 2);
    const none = await loadObelixDataset(dir, { structureSource: 'NONE' });
    assert.ok(none.every((e) => e.structure === null));
    assert.equal(none.filter((e) => e.hasStructure).length, 16);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('grouped k-fold evaluation scores every eligible row once per seed, with metrics in range', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ionsieve-eval-'));
  try {
    await writeMiniDataset(dir);
    const entries = await loadObelixDataset(dir);
    const events: string[] = [];
    const report = await evaluate(entries, {
      folds: 3,
      seeds: [1, 2],
      methods: [compositionRandomForestMethod({ nTrees: 15 }), compositionKnnMethod({ k: 3 }), lookupMethod],
      onProgress: (e) => events.push(e.kind),
    });
    assert.equal(report.nRows, 32);
    assert.equal(report.nStructureRows, 16);
    assert.deepEqual(report.variants.map((v) => v.variant).sort(), ['Composition RF (15 trees)', 'Composition kNN (k=3)', 'lookup A', 'lookup B'].sort());
    for (const variant of report.variants) {
      assert.equal(variant.perSeed.length, 2);
      const eligible = entries.filter((e) => !variant.requiresStructure || e.structure !== null).map((e) => e.id).sort();
      for (const seed of variant.perSeed) {
        assert.deepEqual(seed.scores.map((s) => s.id).sort(), eligible, `${variant.variant}: every eligible row exactly once`);
        assert.equal(seed.n, eligible.length);
        for (const value of [seed.rocAuc, seed.prAuc, seed.atDefault.accuracy, seed.atCalibrated.balancedAccuracy, seed.atDefault.specificity]) {
          assert.ok(value >= 0 && value <= 1, `${variant.variant}: ${value} in [0, 1]`);
        }
        const counts = seed.atCalibrated;
        assert.equal(counts.truePositives + counts.falsePositives + counts.trueNegatives + counts.falseNegatives, seed.n);
        const skipped = report.skipped.filter((s) => s.method === (variant.method) && s.seed === seed.seed).length;
        assert.equal(seed.atCalibrated.thresholds.length + skipped, 3);
      }
      assert.equal(variant.summary['rocAuc']!.n, 2);
      // Composition methods are also reported on the structure rows (the GNN's test rows).
      if (!variant.requiresStructure) assert.equal(variant.perSeed[0]!.onStructureRows!.n, 16);
      else assert.equal(variant.perSeed[0]!.onStructureRows, undefined);
    }
    assert.deepEqual(report.variants.find((v) => v.variant === 'lookup B')!.attributes, { distance: 'COSINE', neighbours: 4 });
    assert.equal(events.filter((k) => k === 'unit-done').length + report.skipped.length, 2 * 3 * 3);
    const table = formatResultsTable(report);
    assert.equal(table.split('\n').length, 2 + 4);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('evaluate-merge: runs of seeds 1 and 2 side by side read as one run of seeds 1,2; other runs are refused', async () => {
  const { mergeEvaluateDocuments } = await import('../../src/cli/evaluate.js');
  const dir = await mkdtemp(join(tmpdir(), 'ionsieve-eval-'));
  try {
    await writeMiniDataset(dir);
    const entries = await loadObelixDataset(dir);
    const run = (seeds: number[]) => evaluate(entries, { folds: 3, seeds, methods: [compositionRandomForestMethod({ nTrees: 15 }), lookupMethod] });
    const [together, first, second] = await Promise.all([run([1, 2]), run([2]), run([1])]);
    const options = { preset: 'default', methods: ['rf'] };
    const doc = (report: typeof together, seeds: number[], file: string) => ({ command: `evaluate --seeds ${seeds.join(',')}`, options: { ...options, seeds, out: file }, report, file });
    const merged = mergeEvaluateDocuments([doc(first, [2], 'a.json'), doc(second, [1], 'b.json')]);
    assert.deepEqual(merged.report.seeds, [1, 2]);
    assert.deepEqual(merged.options.seeds, [1, 2]);
    assert.equal(merged.command, 'evaluate --seeds 2 and ionsieve evaluate --seeds 1');
    assert.deepEqual(merged.report.splits.map((s) => s.seed), [1, 2]);
    together.variants.forEach((v, i) => {
      const m = merged.report.variants[i]!;
      assert.equal(m.variant, v.variant);
      assert.deepEqual(m.perSeed, v.perSeed, `${v.variant}: per-seed results in seed order`);
      for (const [key, value] of Object.entries(v.summary)) {
        assert.equal(m.summary[key]!.n, value.n, key);
        if (Number.isFinite(value.mean)) assert.ok(Math.abs(m.summary[key]!.mean - value.mean) < 1e-12 && Math.abs(m.summary[key]!.sd - value.sd) < 1e-12, key);
      }
      assert.deepEqual(m.summaryOnStructureRows, v.summaryOnStructureRows);
    });
    assert.throws(() => mergeEvaluateDocuments([doc(first, [2], 'a.json'), doc(first, [2], 'c.json')]), /share seed\(s\) 2/);
    const otherOptions = { ...doc(second, [1], 'b.json'), options: { ...options, preset: 'paper', seeds: [1] } };
    assert.throws(() => mergeEvaluateDocuments([doc(first, [2], 'a.json'), otherOptions]), (e: Error) => e instanceof BadInputError && /b\.json: ran other options/.test(e.message));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('leave-one-out on a limited subset runs one fold per row', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ionsieve-eval-'));
  try {
    await writeMiniDataset(dir);
    const entries = await loadObelixDataset(dir);
    const report = await evaluate(entries, { protocol: 'LOO', limit: 12, seeds: [0], methods: [compositionKnnMethod({ k: 3 })] });
    assert.equal(report.nRows, 12);
    assert.equal(report.folds, 12);
    const [variant] = report.variants;
    assert.equal(variant!.perSeed[0]!.scores.length, 12);
    assert.deepEqual([...new Set(variant!.perSeed[0]!.scores.map((s) => s.fold))].length, 12);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the k-NAGCN methods (contrastive, cross-entropy, joint) run end to end on a tiny subset (1 epoch, tiny widths)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ionsieve-eval-'));
  try {
    await writeMiniDataset(dir);
    const entries = await loadObelixDataset(dir);
    const methods = gnnMethods({
      contrastive: true,
      crossEntropy: true,
      joint: true,
      neighbours: [4],
      distances: ['EUCLIDEAN', 'COSINE'],
      maxEpochs: 1,
      overrides: { layers: 1, featureLength: 8, denseLength: 8, embeddingDim: 4, batchSize: 8 },
      validation: { mode: 'none' },
    });
    const report = await evaluate(entries, { folds: 2, seeds: [0], methods });
    assert.deepEqual(report.variants.map((v) => v.variant).sort(), [
      'k-NAGCN contrastive k=4 COSINE',
      'k-NAGCN contrastive k=4 EUCLIDEAN',
      'k-NAGCN cross-entropy k=4 COSINE',
      'k-NAGCN cross-entropy k=4 EUCLIDEAN',
      'k-NAGCN cross-entropy k=4 P(FAST)',
      'k-NAGCN joint k=4 COSINE',
      'k-NAGCN joint k=4 EUCLIDEAN',
      'k-NAGCN joint k=4 P(FAST)',
    ]);
    const structureIds = entries.filter((e) => e.structure !== null).map((e) => e.id).sort();
    for (const variant of report.variants) {
      const [seed] = variant.perSeed;
      assert.deepEqual(seed!.scores.map((s) => s.id).sort(), structureIds);
      assert.ok(seed!.scores.every((s) => Number.isFinite(s.score) || s.score === Number.POSITIVE_INFINITY));
      assert.ok(seed!.rocAuc >= 0 && seed!.rocAuc <= 1);
      assert.equal(seed!.folds.length, 2);
      assert.equal(seed!.folds[0]!.diagnostics!['epochsRun'], 1);
      assert.ok((seed!.folds[0]!.diagnostics!['fitSeconds'] as number) >= 0);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the cross-entropy ensemble fits one model per member and scores their concatenated embeddings', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ionsieve-eval-'));
  try {
    await writeMiniDataset(dir);
    const entries = await loadObelixDataset(dir);
    const run = (members: number) =>
      evaluate(entries, {
        folds: 2,
        seeds: [0],
        methods: gnnMethods({
          contrastive: false,
          crossEntropy: true,
          members,
          neighbours: [4],
          distances: ['EUCLIDEAN'],
          maxEpochs: 1,
          overrides: { layers: 1, featureLength: 8, denseLength: 8, embeddingDim: 4, batchSize: 8 },
          validation: { mode: 'none' },
        }),
      });
    const ensemble = await run(2);
    assert.deepEqual(ensemble.variants.map((v) => v.variant).sort(), ['k-NAGCN cross-entropy ensemble of 2 k=4 EUCLIDEAN', 'k-NAGCN cross-entropy k=4 EUCLIDEAN']);
    const [seed] = ensemble.variants.find((v) => v.variant.includes('ensemble'))!.perSeed;
    const structureIds = entries.filter((e) => e.structure !== null).map((e) => e.id).sort();
    assert.deepEqual(seed!.scores.map((s) => s.id).sort(), structureIds);
    assert.ok(seed!.scores.every((s) => Number.isFinite(s.score) || s.score === Number.POSITIVE_INFINITY));
    const diagnostics = seed!.folds[0]!.diagnostics!;
    assert.equal(diagnostics['members'], 2);
    assert.equal(String(diagnostics['bestEpochs']).split(',').length, 2);
    // The first member is reported alone, and it is the single model of the same seed.
    const firstMember = ensemble.variants.find((v) => v.variant === 'k-NAGCN cross-entropy k=4 EUCLIDEAN')!.perSeed[0]!;
    const single = (await run(1)).variants.find((v) => v.variant === 'k-NAGCN cross-entropy k=4 EUCLIDEAN')!.perSeed[0]!;
    const singleScores = new Map(single.scores.map((s) => [s.id, s.score]));
    assert.ok(firstMember.scores.every((s) => Math.abs(s.score - singleScores.get(s.id)!) <= 1e-9));
    // The second member (seed + 1000) changes the scores: the ensemble is not its first member.
    assert.ok(seed!.scores.some((s) => Math.abs(s.score - singleScores.get(s.id)!) > 1e-9));
    assert.throws(() => gnnMethods({ contrastive: false, crossEntropy: true, members: 0, neighbours: [4], distances: ['EUCLIDEAN'] }), BadInputError);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('every-row evaluation scores every row, structure or formula; --formulas-only scores each by its formula', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ionsieve-eval-'));
  try {
    await writeMiniDataset(dir);
    const entries = await loadObelixDataset(dir);
    const overrides = { k: 4, layers: 1, featureLength: 8, denseLength: 8, embeddingDim: 4, batchSize: 8, maxEpochs: 1, members: 1, compositionEpochs: 3 };
    const both = everyRowMethod({ overrides, validation: { mode: 'none' } });
    const formulas = everyRowMethod({ overrides, validation: { mode: 'none' }, formulasOnly: true });
    const report = await evaluate(entries, { folds: 2, seeds: [0], methods: [both, formulas] });
    const allIds = entries.map((e) => e.id).sort();
    const byName = new Map(report.variants.map((v) => [v.variant, v]));
    for (const variant of report.variants) {
      const [seed] = variant.perSeed;
      assert.deepEqual(seed!.scores.map((s) => s.id).sort(), allIds, variant.variant);
      assert.ok(seed!.scores.every((s) => Number.isFinite(s.score)), variant.variant);
    }
    const scoresOf = (name: string) => byName.get(name)!.perSeed[0]!.scores.map((s) => s.score);
    // Formulas only: the native ratio is the ratio of every row as a formula.
    assert.deepEqual(scoresOf('every-row formulas only k=4 ratio EUCLIDEAN'), scoresOf('every-row formulas only k=4 ratio, every row as a formula EUCLIDEAN'));
    // With structures, the structure rows' native scores come from their graphs, not their formulas.
    assert.notDeepEqual(scoresOf('every-row k=4 ratio EUCLIDEAN'), scoresOf('every-row k=4 ratio, every row as a formula EUCLIDEAN'));
    // Formulas only, both views are the formula view: joining them changes no distance ratio (float32 rounding aside).
    const same = (a: number[], b: number[]) => a.forEach((x, i) => assert.ok(Math.abs(x - b[i]!) < 1e-6 * Math.abs(x), `row ${i}: ${x} vs ${b[i]}`));
    same(scoresOf('every-row formulas only k=4 ratio, structure and formula views joined EUCLIDEAN'), scoresOf('every-row formulas only k=4 ratio EUCLIDEAN'));
    assert.notDeepEqual(scoresOf('every-row k=4 ratio, structure and formula views joined EUCLIDEAN'), scoresOf('every-row k=4 ratio EUCLIDEAN'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('gnnMethods names the known presets when given an unknown one', () => {
  assert.throws(
    () => gnnMethods({ contrastive: true, crossEntropy: false, neighbours: [4], distances: ['EUCLIDEAN'], preset: 'nope' }),
    (error: Error) => error instanceof BadInputError && /unknown hyperparameter preset "nope".*paper/.test(error.message),
  );
});
