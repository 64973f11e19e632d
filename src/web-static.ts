/**
 * Serves the dashboard's static build (web/dist, made by `npm run build:web`) at `/`.
 * The dashboard uses hash routes (`/#/material/12`), so only real files are served: no rewrites.
 * Without a build, `/` answers a one-line page that says how to make one (the API still works).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import express from 'express';

/** web/dist relative to the repository root. */
export const DEFAULT_DASHBOARD_DIR = fileURLToPath(new URL('../web/dist', import.meta.url));

const MISSING_BUILD_PAGE =
  '<!doctype html><meta charset="utf-8"><title>ionsieve</title>' +
  '<p>The dashboard is not built: run <code>npm run build:web</code>, then reload. The GraphQL API is at <a href="/graphql">/graphql</a>.</p>';

/**
 * Mounts the dashboard on `app`. Call it after the API routes (`/graphql`, `/healthz`, `/readyz`),
 * so that no file in dist can shadow them. Whether dist exists is checked per request, so a build
 * made while the server runs is picked up without a restart.
 */
export function mountDashboard(app: express.Express, distDir: string = DEFAULT_DASHBOARD_DIR): void {
  const root = resolve(distDir);
  const index = join(root, 'index.html');
  // Hashed assets never change under the same name; index.html must be revalidated to pick up a new build.
  const assets = express.static(root, {
    index: false,
    setHeaders(res, path) {
      res.setHeader('Cache-Control', /[\\/]assets[\\/]/.test(path) ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
  app.use(assets);
  app.get('/', (_req, res) => {
    if (existsSync(index)) {
      res.setHeader('Cache-Control', 'no-cache');
      res.sendFile(index);
    } else {
      res.status(200).type('html').send(MISSING_BUILD_PAGE);
    }
  });
}
