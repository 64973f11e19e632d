#!/usr/bin/env node
// Builds the dashboard (web/dist) once, so `npm start` serves it at `/` on a fresh clone.
// The dashboard is its own package (web/) so its front-end toolchain never enters the API image.
import { existsSync } from 'node:fs';
import { execSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const force = process.argv.includes('--force');
const run = (cmd) => execSync(cmd, { cwd: root, stdio: 'inherit' });
if (!existsSync(`${root}/web/node_modules/.package-lock.json`)) run('npm ci --prefix web --no-audit --no-fund');
if (force || !existsSync(`${root}/web/dist/index.html`)) run('npm run build --prefix web');
