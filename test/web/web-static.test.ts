/** mountDashboard: serves a dist folder at `/`, or says how to build one when it is missing. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import express from 'express';
import { mountDashboard } from '../../src/web-static.js';

const servers: Server[] = [];
const folders: string[] = [];
after(async () => {
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

async function serve(distDir: string): Promise<string> {
  const app = express();
  app.get('/graphql', (_req, res) => {
    res.json({ api: true });
  });
  mountDashboard(app, distDir);
  const server = app.listen(0, '127.0.0.1');
  servers.push(server);
  await new Promise((resolve) => server.once('listening', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function tempDir(): string {
  const folder = mkdtempSync(join(tmpdir(), 'ionsieve-dist-'));
  folders.push(folder);
  return folder;
}

test('serves index.html at / and hashed assets with a long cache, without shadowing the API', async () => {
  const dist = tempDir();
  writeFileSync(join(dist, 'index.html'), '<!doctype html><title>dash</title>');
  mkdirSync(join(dist, 'assets'));
  writeFileSync(join(dist, 'assets', 'index-abc123.js'), 'console.log(1)');
  writeFileSync(join(dist, 'graphql'), 'a file named like the API');
  const url = await serve(dist);

  const index = await fetch(`${url}/`);
  assert.equal(index.status, 200);
  assert.match(await index.text(), /<title>dash<\/title>/);
  assert.equal(index.headers.get('cache-control'), 'no-cache');

  const asset = await fetch(`${url}/assets/index-abc123.js`);
  assert.equal(asset.status, 200);
  assert.match(asset.headers.get('content-type') ?? '', /javascript/);
  assert.match(asset.headers.get('cache-control') ?? '', /immutable/);

  assert.deepEqual(await (await fetch(`${url}/graphql`)).json(), { api: true });
  assert.equal((await fetch(`${url}/no-such-file.js`)).status, 404);
});

test('without a build, / says to run npm run build:web', async () => {
  const url = await serve(join(tempDir(), 'missing'));
  const response = await fetch(`${url}/`);
  assert.equal(response.status, 200);
  assert.match(await response.text(), /npm run build:web/);
});
