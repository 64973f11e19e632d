// Child-process entry: registers tsx (with the project's tsconfig) when the real entry is
// TypeScript (dev, tests, `npm start`), then loads it. A compiled build passes a .js entry.
import { fileURLToPath } from 'node:url';

const entry = process.argv[2];
if (entry.endsWith('.ts')) {
  const { register } = await import('tsx/esm/api');
  register({ tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) });
}
await import(entry);
