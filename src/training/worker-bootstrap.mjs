// Worker entry: registers tsx when the real entry is TypeScript (dev, tests), then loads it.
// Compiled builds pass a .js entry and skip the loader.
import { workerData } from 'node:worker_threads';

if (workerData.entry.endsWith('.ts')) {
  const { register } = await import('tsx/esm/api');
  register();
}
await import(workerData.entry);
