#!/usr/bin/env node
// Builds the optional native kernels (native/: OpenBLAS matMul and compiled k-NAGCN loops) with
// node-gyp. Runs as the root package's `install` script, so `npm ci` builds it where
// libopenblas-dev is installed and carries on without it (TF.js's XNNPACK and the JS kernels then
// do the same work, ~2× slower to train). `--require` (CI) fails instead of carrying on.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const native = path.join(root, 'native');
const required = process.argv.includes('--require');

function skip(why) {
  const message = `ionsieve: native kernels not built (${why}). Training and embedding use XNNPACK and the JS kernels; ` +
    'for the fast path: apt-get install libopenblas-dev && npm run build:native';
  if (required) {
    console.error(message);
    process.exit(1);
  }
  console.warn(message);
  process.exit(0);
}

if (process.env.IONSIEVE_SKIP_NATIVE_BUILD === '1') skip('IONSIEVE_SKIP_NATIVE_BUILD=1');
const header = ['/usr/include/cblas.h', '/usr/include/x86_64-linux-gnu/cblas.h', '/usr/include/aarch64-linux-gnu/cblas.h',
  '/usr/include/openblas/cblas.h'].find((p) => existsSync(p));
if (!header) skip('no cblas.h: libopenblas-dev is not installed');

// npm sets npm_config_node_gyp for scripts; otherwise npm's own copy next to this node.
const gyp = process.env.npm_config_node_gyp ??
  [path.join(path.dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js')].find((p) => existsSync(p));
if (!gyp) skip('node-gyp not found');
// Node's own headers (no download): npm's nodedir, else the prefix this node runs from.
const nodedir = process.env.npm_config_nodedir || path.resolve(path.dirname(process.execPath), '..');
if (!existsSync(path.join(nodedir, 'include/node/node_api.h'))) skip(`no Node headers under ${nodedir}/include/node`);

const built = spawnSync(process.execPath, [gyp, 'rebuild', `--nodedir=${nodedir}`, '--loglevel=warn'], { cwd: native, stdio: 'inherit' });
if (built.status !== 0) skip(`node-gyp exited with ${built.status ?? built.signal}`);

// Load it once here, so a library that links but cannot load is reported now, not at training time.
try {
  const addon = createRequire(import.meta.url)(path.join(native, 'build/Release/ionsieve_native.node'));
  const { config, core } = addon.describe();
  console.log(`ionsieve: native kernels built (${config.trim()}, kernels for ${core})`);
} catch (error) {
  skip(`the built addon does not load: ${error.message.split('\n')[0]}`);
}
