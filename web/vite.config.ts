/**
 * Static build of the dashboard into dist/, served by the API server at `/` (src/web-static.ts).
 * Relative asset URLs (`base: './'`) and hash routing mean no server rewrites are needed.
 * JSX is compiled by Vite's own transform (React 19 automatic runtime); no React plugin is needed.
 * `npm run dev` proxies /graphql (HTTP and WebSocket) to a running API, by default on port 4000.
 */
import { defineConfig } from 'vite';

const apiTarget = process.env.IONSIEVE_API ?? 'http://127.0.0.1:4000';

export default defineConfig({
  base: './',
  oxc: { jsx: { runtime: 'automatic' } },
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 400 },
  server: { proxy: { '/graphql': { target: apiTarget, ws: true, changeOrigin: true } } },
  preview: { proxy: { '/graphql': { target: apiTarget, ws: true, changeOrigin: true } } },
});
