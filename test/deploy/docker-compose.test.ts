/**
 * docker-compose.yml cannot be run here (no Docker engine), so it is checked by parsing: every
 * service's environment is a valid ionsieve Config, every command is a real CLI command, every
 * Dockerfile exists, and every dependency names a service.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { buildProgram } from '../../src/cli/program.js';
import { loadConfig } from '../../src/config.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
}

const compose = parse(readFileSync(`${ROOT}docker-compose.yml`, 'utf8'), { merge: true }) as {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
};
const services = Object.entries(compose.services);
const appServices = services.filter(([, s]) => s.build);

test('docker-compose: the database is PostgreSQL with pgvector, with memory for its HNSW indexes', () => {
  const db = compose.services.db;
  assert.ok(db?.image?.startsWith('pgvector/pgvector:'), 'db runs the pgvector image');
  assert.ok(db.command?.some((arg) => /^shared_buffers=\d+[GM]B$/.test(arg)), 'shared_buffers is sized');
  assert.ok(db.healthcheck, 'db has a health check the app services wait on');
});

test('docker-compose: app services build from existing Dockerfiles and run real CLI commands', () => {
  assert.ok(appServices.length >= 3, 'api, trainer, trainer-cpu');
  const commands = new Set(buildProgram().commands.map((c) => c.name()));
  for (const [name, service] of appServices) {
    assert.ok(existsSync(`${ROOT}${service.build!.dockerfile}`), `${name}: ${service.build!.dockerfile} exists`);
    const [node, bin, command, ...options] = service.command ?? [];
    assert.equal(node, 'node', name);
    assert.ok(existsSync(`${ROOT}${bin}`), `${name}: ${bin} exists`);
    assert.ok(commands.has(command!), `${name}: "${command}" is an ionsieve command`);
    const known = buildProgram()
      .commands.find((c) => c.name() === command)!
      .options.map((o) => o.long);
    for (const option of options.filter((o) => o.startsWith('--'))) assert.ok(known.includes(option.split('=')[0]), `${name}: ${command} accepts ${option}`);
  }
});

test('docker-compose: every app environment is a valid Config on PostgreSQL with auth required', () => {
  for (const [name, service] of appServices) {
    const config = loadConfig(service.environment ?? {});
    assert.match(config.databaseUrl ?? '', /^postgres:\/\/[^@]+@db:5432\//, `${name} uses the db service`);
    assert.equal(service.environment?.IONSIEVE_REQUIRE_AUTH, 'true', `${name} requires tokens`);
  }
});

test('docker-compose: dependencies name services and wait for health', () => {
  for (const [name, service] of services) {
    for (const [dependency, { condition }] of Object.entries(service.depends_on ?? {})) {
      assert.ok(compose.services[dependency], `${name} depends on an existing service ${dependency}`);
      assert.equal(condition, 'service_healthy', `${name} waits for ${dependency} to be healthy`);
      assert.ok(compose.services[dependency]!.healthcheck, `${dependency} has a health check`);
    }
  }
});

test('docker-compose: the API requires a token for every request', () => {
  const api = compose.services.api!;
  assert.equal(api.environment?.IONSIEVE_REQUIRE_AUTH, 'true');
  assert.equal(loadConfig({ ...api.environment } as NodeJS.ProcessEnv).requireAuth, true);
});

test('the image, `npm start` and bench:load run node with the same flags', () => {
  const dockerfile = readFileSync(`${ROOT}docker/Dockerfile`, 'utf8');
  const nodeOptions = /^ENV\b.*\bNODE_OPTIONS=(\S+)/m.exec(dockerfile)?.[1];
  assert.ok(nodeOptions, 'docker/Dockerfile sets NODE_OPTIONS');
  const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { scripts: Record<string, string> };
  assert.ok(pkg.scripts.start!.startsWith(`node ${nodeOptions} `), `npm start runs node ${nodeOptions}`);
  // bench:load reads the Dockerfile itself (imageNodeOptions): it measures the server as the image runs it.
  assert.match(readFileSync(`${ROOT}bench/load.ts`, 'utf8'), /NODE_OPTIONS: IMAGE_NODE_OPTIONS/);
});
