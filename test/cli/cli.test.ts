/**
 * The CLI end to end through bin/ionsieve.js, on a PGlite data directory in a temp folder:
 * import a folder (one bad file) and export it as JSON lines; and, in process, that both export
 * formats read back to the same structure (so an export re-imports as duplicates).
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { renderMaterial } from '../../src/cli/export.js';
import type { MaterialRecord } from '../../src/services/materials.js';
import { describeStructure, parseStructure } from '../../src/structure/index.js';
import { embeddedCli } from '../support/processes.js';

const CIF_DIR = fileURLToPath(new URL('../../data/candidates/open_li_pool_v1/cifs', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'ionsieve-cli-'));
after(() => rmSync(work, { recursive: true, force: true }));

const ionsieve = embeddedCli(work);

test('import a folder (one bad file), then export it as JSON lines', () => {
  const input = join(work, 'input');
  mkdirSync(input);
  const cifs = readdirSync(CIF_DIR).sort().slice(0, 4);
  for (const name of cifs) copyFileSync(join(CIF_DIR, name), join(input, name));
  writeFileSync(join(input, 'bad.cif'), 'data_bad\n');

  const imported = ionsieve('import', input);
  assert.equal(imported.status, 2, imported.stderr); // 2: some files failed
  const summary = JSON.parse(imported.stdout);
  assert.equal(summary.ok, cifs.length);
  assert.equal(summary.failed, 1);
  assert.match(summary.failures[0].file, /bad\.cif$/);
  // Logs are JSON lines on stderr (not a TTY here, so no progress bar).
  const logs = imported.stderr.trim().split('\n').map((line) => JSON.parse(line));
  assert.ok(logs.some((l) => l.msg === 'import done' && l.ok === cifs.length));

  const exported = ionsieve('export', '--format', 'json', '--out', '-');
  assert.equal(exported.status, 0, exported.stderr);
  const lines = exported.stdout.trim().split('\n');
  assert.equal(lines.length, cifs.length);
  assert.ok(lines.every((line) => Array.isArray(JSON.parse(line).lattice_vectors)));
  assert.deepEqual(
    lines.map((line) => JSON.parse(line).name).sort(),
    cifs.map((name) => name.replace(/\.cif$/, '')).sort(),
  );
});

test('exported CIF and JSON parse back to the same structure hash', () => {
  for (const name of readdirSync(CIF_DIR).sort().slice(0, 20)) {
    const structure = parseStructure('CIF', readFileSync(join(CIF_DIR, name), 'utf8'));
    const { hash } = describeStructure(structure);
    const material = { id: '1', reducedFormula: 'X', structure } as MaterialRecord;
    for (const format of ['CIF', 'JSON'] as const) {
      const text = renderMaterial(material, format === 'CIF' ? 'cif' : 'json');
      assert.equal(describeStructure(parseStructure(format, text)).hash, hash, `${name} as ${format}`);
    }
  }
});
