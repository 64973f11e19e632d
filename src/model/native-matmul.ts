/**
 * tf.matMul on the wasm backend through OpenBLAS (src/model/native.ts) when the addon is built.
 *
 * Why: a k-NAGCN training step is mostly matrix products, and XNNPACK inside tfjs-backend-wasm runs
 * them at 25–31 GFLOP/s per core here (its transposed products at ~2 GFLOP/s), while OpenBLAS's
 * AVX2 kernels run the step's [2560 × 1248]·[1248 × 192] product at 90–105 GFLOP/s, transposed or
 * not (docs/ml-core.md). The addon reads and writes the wasm heap in place: nothing is copied.
 *
 * The wrapper replaces the wasm backend's BatchMatMul kernel after the backend is initialised (the
 * original's setup has run, so it stays callable) and hands everything it does not take — another
 * dtype, batch shapes that broadcast, the addon missing or turned off — to the original.
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { nativeKernels, nativeUnavailableReason } from './native.js';

/** What runs tf.matMul on the wasm backend. */
export interface MatMulProvider {
  name: 'openblas' | 'xnnpack';
  /** OpenBLAS build and kernel family, e.g. 'OpenBLAS 0.3.21 … DYNAMIC_ARCH … / Haswell'. */
  detail?: string;
  /** Why OpenBLAS is not used, when it is not. */
  reason?: string;
}

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: string): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array | Int32Array;
}

const product = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);

function openBlasBatchMatMul(fallback: KernelFunc): KernelFunc {
  return (args) => {
    const blas = nativeKernels();
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    const { transposeA, transposeB } = args.attrs as NamedAttrMap as { transposeA: boolean; transposeB: boolean };
    const ra = a.shape.length;
    const rb = b.shape.length;
    const outer = a.shape.slice(0, -2);
    const outerB = b.shape.slice(0, -2);
    const batch = product(outer);
    const sameOuter = outer.length === outerB.length && outer.every((d, i) => d === outerB[i]);
    const sharedB = product(outerB) === 1 && rb === 2;
    if (!blas || a.dtype !== 'float32' || b.dtype !== 'float32' || ra < 2 || rb < 2 || !(sameOuter || sharedB)) return fallback(args);
    const m = transposeA ? a.shape[ra - 1]! : a.shape[ra - 2]!;
    const k = transposeA ? a.shape[ra - 2]! : a.shape[ra - 1]!;
    const n = transposeB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
    if (k !== (transposeB ? b.shape[rb - 1]! : b.shape[rb - 2]!)) return fallback(args); // tfjs words the mismatch
    const backend = args.backend as WasmBackendLike;
    const out = backend.makeOutput([...outer, m, n], 'float32');
    // Views after the allocation: makeOutput may grow (and so detach) the wasm heap.
    const av = backend.typedArrayFromHeap(a) as Float32Array;
    const bv = backend.typedArrayFromHeap(b) as Float32Array;
    const cv = backend.typedArrayFromHeap(out) as Float32Array;
    const strideB = sharedB ? 0 : k * n;
    for (let i = 0; i < batch; i++) {
      blas.sgemm(transposeA, transposeB, m, n, k, av.subarray(i * m * k, (i + 1) * m * k), bv.subarray(i * strideB, i * strideB + k * n), cv.subarray(i * m * n, (i + 1) * m * n));
    }
    return out;
  };
}

let installed = false;

/** Wraps the wasm backend's BatchMatMul (idempotent per thread); call once the backend is ready. */
export function installNativeMatMul(): MatMulProvider {
  const original = tf.getKernel('BatchMatMul', 'wasm');
  if (!installed && original) {
    installed = true;
    tf.unregisterKernel('BatchMatMul', 'wasm');
    tf.registerKernel({ kernelName: 'BatchMatMul', backendName: 'wasm', kernelFunc: openBlasBatchMatMul(original.kernelFunc) });
  }
  return matMulProvider();
}

/** Who runs tf.matMul on wasm right now. */
export function matMulProvider(): MatMulProvider {
  const blas = installed ? nativeKernels() : undefined;
  if (!blas) return { name: 'xnnpack', reason: installed ? nativeUnavailableReason() : 'the wasm backend is not initialised' };
  const { config, core } = blas.describe();
  return { name: 'openblas', detail: `${config.trim()} / ${core}` };
}

/** Whether transposed products are as fast as plain ones (true with OpenBLAS; XNNPACK's are ~10× slower). */
export function fastTransposedMatMul(): boolean {
  return installed && tf.getBackend() === 'wasm' && nativeKernels() !== undefined;
}
