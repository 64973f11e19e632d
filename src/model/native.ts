/**
 * The optional native addon (native/ionsieve_native.c): OpenBLAS sgemm plus the k-NAGCN kernels
 * that JS runs slowly (gated softplus, slot gather/scatter, column sums), all in place on typed
 * arrays. Built at install when libopenblas-dev is present (`npm run build:native`, see README);
 * without it everything runs on XNNPACK and the JS kernels, with the same formulas.
 *
 * `IONSIEVE_NATIVE=0` turns it off for a process and its worker threads (A/B runs). It is the one
 * environment variable the core reads: worker threads inherit it, where a setting passed down
 * would have to travel through every thread's start message.
 */
import { createRequire } from 'node:module';

export interface NativeKernels {
  sgemm(transA: boolean, transB: boolean, m: number, n: number, k: number, a: Float32Array, b: Float32Array, c: Float32Array): void;
  slotGather(h: Float32Array, index: Int32Array, z: Float32Array, n: number, slots: number, features: number): void;
  slotScatter(dz: Float32Array, index: Int32Array, dh: Float32Array, n: number, slots: number, features: number): void;
  columnSum(x: Float32Array, out: Float32Array, rows: number, columns: number): void;
  slotMixTyped(h: Float32Array, w: Float32Array, index: Int32Array, u: Float32Array, n: number, slots: number, features: number, types: number): void;
  slotMixTypedGrad(
    h: Float32Array, w: Float32Array, index: Int32Array, du: Float32Array, dh: Float32Array, dw: Float32Array,
    n: number, slots: number, features: number, types: number,
  ): void;
  gatedSoftplus(u: Float32Array, m: Float32Array, rows: number, features: number): void;
  gatedSoftplusGrad(u: Float32Array, dm: Float32Array, du: Float32Array, rows: number, features: number): void;
  setThreads(n: number): void;
  describe(): { config: string; core: string; threads: number };
}

export const NATIVE_ADDON_PATH = '../../native/build/Release/ionsieve_native.node';

let loaded: NativeKernels | undefined;
let blasThreads = 1;
let unavailable: string | undefined;
let enabled = process.env.IONSIEVE_NATIVE !== '0';

function load(): NativeKernels | undefined {
  if (loaded || unavailable) return loaded;
  try {
    loaded = createRequire(import.meta.url)(NATIVE_ADDON_PATH) as NativeKernels;
    // One BLAS thread unless a fit asks for more (setBlasThreads): a server's occasional product
    // should not wake (and spin) helper threads, and data-parallel model threads have a core each.
    loaded.setThreads(1);
  } catch (error) {
    unavailable = `native/ is not built (${(error as Error).message.split('\n')[0]}); install libopenblas-dev, then \`npm run build:native\``;
  }
  return loaded;
}

/** The addon, or undefined when it is not built or turned off. */
export function nativeKernels(): NativeKernels | undefined {
  return enabled ? load() : undefined;
}

/** Why nativeKernels() is undefined ('' when it is not). */
export function nativeUnavailableReason(): string {
  if (!enabled) return 'turned off (IONSIEVE_NATIVE=0 or setNativeKernelsEnabled(false))';
  load();
  return unavailable ?? '';
}

/**
 * Threads OpenBLAS uses for each product, process-wide (worker threads included); returns the
 * previous count. One model thread with n BLAS threads trained faster than n data-parallel model
 * threads in four of six runs here (median 176 vs 201 ms per 2,555-atom step on 2 cores,
 * docs/BENCHMARKS.md), and keeps BatchNorm on the whole batch. No-op without the addon.
 */
export function setBlasThreads(n: number): number {
  const previous = blasThreads;
  const native = nativeKernels();
  if (native && n !== blasThreads) {
    native.setThreads(n);
    blasThreads = n;
  }
  return previous;
}

/** Tests and benchmarks: use (true) or bypass (false) the addon in this process from now on. */
export function setNativeKernelsEnabled(on: boolean): void {
  enabled = on;
}
