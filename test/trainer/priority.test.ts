import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Runs lowerCpuPriority in a child (it changes the process it runs in), optionally as a new session. */
function inChild(nice: number, newSession: boolean) {
  const script = `import { lowerCpuPriority } from './trainer/priority.ts';
    import { getPriority } from 'node:os'; import { readFileSync, existsSync } from 'node:fs';
    const result = lowerCpuPriority(${nice});
    const autogroup = existsSync('/proc/self/autogroup') ? readFileSync('/proc/self/autogroup', 'utf8').trim() : null;
    console.log(JSON.stringify({ result, priority: getPriority(), autogroup }));`;
  const argv = ['node', '--import', 'tsx', '--input-type=module', '-e', script];
  const [cmd, ...args] = newSession ? ['setsid', '--wait', ...argv] : argv;
  const child = spawnSync(cmd!, args, { cwd: ROOT, encoding: 'utf8' });
  assert.equal(child.status, 0, child.stderr);
  return JSON.parse(child.stdout.trim().split('\n').at(-1)!) as {
    result: { nice: number; process: boolean; autogroup: boolean };
    priority: number;
    autogroup: string | null;
  };
}

test('a trainer lowers its nice value, and its autogroup only when it leads its own session', (t) => {
  if (process.platform !== 'linux') return t.skip('Linux priorities and autogroups');
  const own = inChild(10, true);
  assert.equal(own.result.process, true);
  assert.equal(own.priority, 10);
  if (own.autogroup !== null) {
    assert.equal(own.result.autogroup, true);
    assert.match(own.autogroup, /nice 10$/);
  }
  // Inside the test runner's session: the session's autogroup (shared with this runner) stays.
  const before = own.autogroup === null ? null : readFileSync('/proc/self/autogroup', 'utf8').trim();
  const shared = inChild(10, false);
  assert.equal(shared.priority, 10);
  assert.equal(shared.result.autogroup, false);
  if (before !== null) assert.equal(readFileSync('/proc/self/autogroup', 'utf8').trim(), before);
  // 0 leaves everything as it was.
  const none = inChild(0, true);
  assert.deepEqual(none.result, { nice: 0, process: false, autogroup: false });
  assert.equal(none.priority, getPriority(), 'the priority it was started with');
});
