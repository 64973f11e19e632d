/**
 * The repository must work as a fresh clone on another machine: no tracked source, test, bench or
 * script file may name an absolute path outside the repository (a data folder of the machine it was
 * written on, a home directory, a scratch file in the system temp folder). System locations that a Debian package
 * installs (/usr/…, /etc/…) are allowed; so are examples in Markdown documentation.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '../..');

// Roots that hold a machine's or a user's own files, never something a package installs.
const FOREIGN_ROOTS = ['work', 'home', 'root', 'tmp', ['var', 'tmp'].join('/'), 'mnt', 'media', 'srv', 'scratch', 'Users'];
// Preceded by the start of a line or a delimiter, so URLs (a host, then one of these names) and
// relative paths (a folder, then one of these names) do not count.
const ABSOLUTE = new RegExp(String.raw`(?:^|[\s'"\`(=,:\[{])(/(?:${FOREIGN_ROOTS.join('|')})(?![\w.-])[^\s'"\`)\]},;]*)`, 'gm');

/** Absolute paths outside the repository that text names. */
export function foreignAbsolutePaths(text: string): string[] {
  return [...text.matchAll(ABSOLUTE)].map((m) => m[1]!);
}

// Documentation (examples allowed), images, and ignore files (their /x patterns are relative to the repository).
const SKIPPED = /\.(md|png|jpg|jpeg|gif|ico)$|(^|\/)\.(git|docker)ignore$/;

/** Files git would commit: tracked, plus new files not ignored (so a planted file fails before its commit). */
function repositoryFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: ROOT, encoding: 'utf8' });
  return out.split('\0').filter((f) => f !== '' && !SKIPPED.test(f) && existsSync(join(ROOT, f)));
}

test('the detector finds planted absolute paths and leaves system paths, URLs and relative paths alone', () => {
  // The planted paths are assembled here so that this file itself names none (other checkers read it too).
  const at = (...parts: string[]) => `/${parts.join('/')}`;
  const obelix = at('work', 'shared', 'data', 'obelix', 'structures_p1.jsonl');
  assert.deepEqual(foreignAbsolutePaths(`const DATA = '${obelix}';`), [obelix]);
  assert.deepEqual(foreignAbsolutePaths(`readFileSync(\`${at('home', 'ana', 'cgcnn.csv')}\`)`), [at('home', 'ana', 'cgcnn.csv')]);
  assert.deepEqual(foreignAbsolutePaths(`cp x ${at('tmp', 'cache.json')}`), [at('tmp', 'cache.json')]);
  assert.deepEqual(foreignAbsolutePaths(` * (see ${at('work', 'shared', 'design', 'knagcn.md')})`), [at('work', 'shared', 'design', 'knagcn.md')]);
  assert.deepEqual(foreignAbsolutePaths(`PATH=${at('root', 'bin')}:$PATH`), [`${at('root', 'bin')}:$PATH`]);
  assert.deepEqual(
    foreignAbsolutePaths(
      [
        "const header = '/usr/include/cblas.h';",
        "ls /etc/postgresql; const CHROMIUM = '/usr/bin/chromium';",
        "import { startWorker } from '../../src/jobs/worker.js';",
        `https://github.com/txie-93/cgcnn${at('home', 'tmp')}`,
        `join(root, 'data/obelix'); app.get('/graphql'); '${at('workers')}'; '${at('tmpl')}'`,
      ].join('\n'),
    ),
    [],
  );
});

test('no tracked source, test, bench or script file names an absolute path outside the repository', () => {
  const files = repositoryFiles();
  assert.ok(files.includes('test/repo/self-contained.test.ts'), 'git ls-files lists this repository');
  const found: string[] = [];
  for (const file of files) {
    const text = readFileSync(join(ROOT, file), 'utf8');
    if (text.includes('\0')) continue; // binary
    // This file's own planted examples are the detector's test, not paths it uses.
    if (file === 'test/repo/self-contained.test.ts') continue;
    for (const path of foreignAbsolutePaths(text)) found.push(`${file}: ${path}`);
  }
  assert.deepEqual(found, [], 'read data from the repository (data/, test/fixtures/) instead');
});
