/**
 * TF.js backend selection, behind one narrow function (style.md §8.4).
 *
 * Order: `@tensorflow/tfjs-node-gpu` (CUDA) → `@tensorflow/tfjs-node` (native CPU) → the WebAssembly
 * backend (`@tensorflow/tfjs-backend-wasm`, XNNPACK SIMD, the default here) → the pure-JS cpu
 * backend. Native packages are loaded with a dynamic import only when they are installed, so a
 * plain checkout never needs them. On wasm, matrix products run in OpenBLAS when native/openblas is
 * built (src/model/native-matmul.ts), else in XNNPACK. Our custom kernels (src/model/kernels.ts) are registered for
 * wasm and cpu; on native backends the ops fall back to composite tfjs ops.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { registerIonsieveKernels } from './kernels.js';
import { installNativeMatMul, type MatMulProvider } from './native-matmul.js';

export type BackendPreference = 'auto' | 'native' | 'wasm' | 'cpu';

/** Name TF.js reports: 'tensorflow' for tfjs-node(-gpu), 'wasm' or 'cpu'. */
export type BackendName = string;

export interface BackendInfo {
  /** tf.getBackend() after initialisation. */
  name: BackendName;
  /** Which package provided it ('@tensorflow/tfjs-node-gpu', …). */
  provider: string;
  /** On wasm: OpenBLAS (native/openblas) or XNNPACK runs the matrix products. */
  matMul?: MatMulProvider;
}

/**
 * The backend as a model records it: 'wasm+openblas' when OpenBLAS ran the products on wasm
 * (results differ from XNNPACK's in the last bits, so the difference is worth recording).
 */
export function backendLabel(info: BackendInfo): string {
  return info.matMul?.name === 'openblas' ? `${info.name}+openblas` : info.name;
}

let current: Promise<BackendInfo> | undefined;
let currentPreference: BackendPreference | undefined;

async function tryNative(pkg: string): Promise<boolean> {
  try {
    await import(/* @vite-ignore */ pkg);
    return tf.findBackend('tensorflow') !== undefined || tf.engine().registryFactory['tensorflow'] !== undefined;
  } catch {
    return false;
  }
}

async function useWasm(): Promise<boolean> {
  try {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const require = createRequire(import.meta.url);
    // A file path prefix (with trailing slash) to the .wasm binaries in node_modules.
    const dist = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep;
    wasm.setWasmPaths(dist);
    return await tf.setBackend('wasm');
  } catch {
    return false;
  }
}

async function select(preference: BackendPreference): Promise<BackendInfo> {
  registerIonsieveKernels();
  if (preference === 'auto' || preference === 'native') {
    for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
      if ((await tryNative(pkg)) && (await tf.setBackend('tensorflow'))) {
        await tf.ready();
        return { name: tf.getBackend(), provider: pkg };
      }
    }
  }
  if ((preference === 'auto' || preference === 'wasm' || preference === 'native') && (await useWasm())) {
    await tf.ready();
    return { name: tf.getBackend(), provider: '@tensorflow/tfjs-backend-wasm', matMul: installNativeMatMul() };
  }
  await tf.setBackend('cpu');
  await tf.ready();
  return { name: tf.getBackend(), provider: '@tensorflow/tfjs (cpu)' };
}

/**
 * Initialises (once per process and preference) and returns the backend in use. Calling it again
 * with another preference switches backends; variables created before a switch stay on the old one,
 * so switch only between models.
 */
export async function initBackend(preference: BackendPreference = 'auto'): Promise<BackendInfo> {
  if (!current || currentPreference !== preference) {
    currentPreference = preference;
    current = select(preference);
  }
  const info = await current;
  // Someone may have switched backends with tf.setBackend since: switch back.
  if (tf.getBackend() !== info.name) await tf.setBackend(info.name);
  return info;
}
