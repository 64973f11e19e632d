/** Where the shipped datasets are: the seed folder of `seed`, `start` and `train-default`. */
import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, where the shipped data/ folder lives. */
const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * A relative seed dir is taken from the working directory when it holds the datasets there, else
 * from the package root, so `ionsieve seed` works from any directory with the default 'data'.
 */
export function resolveSeedDir(seedDir: string): string {
  if (isAbsolute(seedDir) || existsSync(join(seedDir, 'obelix', 'manifest.csv'))) return resolve(seedDir);
  return resolve(PACKAGE_ROOT, seedDir);
}
