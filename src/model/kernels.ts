/**
 * Custom TF.js kernels for the wasm and cpu backends, written in plain JS on the tensors' data
 * arrays (the wasm heap for 'wasm').
 *
 * Why: on tfjs-backend-wasm 4.22 (2 cores, SIMD, measured here) non-transposed matMul runs at
 * 25–30 GFLOP/s through XNNPACK, but GatherV2 moves only ~28 M elements/s, Slice ~30 M/s,
 * Transpose ~90 M/s, axis-0 Sum ~100 M/s, and matMul with transposeA/B falls to ~2 GFLOP/s, and the
 * backend has no UnsortedSegmentSum at all (gather's gradient). These kernels fill exactly those gaps
 * at memory speed:
 *
 *   IonsieveSlotGatherSum  p [R, C], index [N·S] → out [N, C],  out[i] = Σ_s p[index[i·S + s]]
 *   IonsieveSlotScatterSum dy [N, C], index [N·S] → out [R, C], out[index[i·S + s]] += dy[i]
 *   IonsieveTranspose2D    x [M, C] → [C, M]
 *   UnsortedSegmentSum     (wasm only; tfjs-core semantics, any trailing shape)
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, TensorInfo, NamedAttrMap } from '@tensorflow/tfjs';

export const SLOT_GATHER_SUM = 'IonsieveSlotGatherSum';
export const SLOT_SCATTER_SUM = 'IonsieveSlotScatterSum';
export const TRANSPOSE_2D = 'IonsieveTranspose2D';

type TypedArray = Float32Array | Int32Array;

/** The parts of the wasm and cpu backends we touch (they are not exported as types). */
interface WasmLikeBackend {
  makeOutput(shape: number[], dtype: string): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): TypedArray;
}
interface CpuLikeBackend {
  data: { get(dataId: object): { values: TypedArray } };
  makeTensorInfo(shape: number[], dtype: string, values: TypedArray): TensorInfo;
}

/** Allocates the output first (it may grow the wasm heap), then returns fresh views. */
function prepare(
  backend: unknown,
  backendName: 'wasm' | 'cpu',
  inputs: TensorInfo[],
  outShape: number[],
  outDtype: 'float32' | 'int32',
  zero: boolean,
): { out: TensorInfo; outView: TypedArray; views: TypedArray[] } {
  const size = outShape.reduce((a, b) => a * b, 1);
  if (backendName === 'wasm') {
    const b = backend as WasmLikeBackend;
    const out = b.makeOutput(outShape, outDtype);
    const outView = b.typedArrayFromHeap(out);
    if (zero) outView.fill(0);
    return { out, outView, views: inputs.map((t) => b.typedArrayFromHeap(t)) };
  }
  const b = backend as CpuLikeBackend;
  const outView = outDtype === 'float32' ? new Float32Array(size) : new Int32Array(size);
  const out = b.makeTensorInfo(outShape, outDtype, outView);
  return { out, outView, views: inputs.map((t) => b.data.get(t.dataId).values) };
}

function slotGatherSumKernel(backendName: 'wasm' | 'cpu'): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { p, index } = inputs as { p: TensorInfo; index: TensorInfo };
    const slots = (attrs as NamedAttrMap).slots as number;
    const C = p.shape[1]!;
    const N = index.shape[0]! / slots;
    const { out, outView, views } = prepare(backend, backendName, [p, index], [N, C], 'float32', false);
    const src = views[0] as Float32Array;
    const idx = views[1] as Int32Array;
    const dst = outView as Float32Array;
    for (let i = 0; i < N; i++) {
      const o = i * C;
      let row = idx[i * slots]! * C;
      for (let c = 0; c < C; c++) dst[o + c] = src[row + c]!;
      for (let s = 1; s < slots; s++) {
        row = idx[i * slots + s]! * C;
        for (let c = 0; c < C; c++) dst[o + c]! += src[row + c]!;
      }
    }
    return out;
  };
}

function slotScatterSumKernel(backendName: 'wasm' | 'cpu'): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { dy, index } = inputs as { dy: TensorInfo; index: TensorInfo };
    const slots = (attrs as NamedAttrMap).slots as number;
    const rows = (attrs as NamedAttrMap).rows as number;
    const C = dy.shape[1]!;
    const N = dy.shape[0]!;
    const { out, outView, views } = prepare(backend, backendName, [dy, index], [rows, C], 'float32', true);
    const src = views[0] as Float32Array;
    const idx = views[1] as Int32Array;
    const dst = outView as Float32Array;
    for (let i = 0; i < N; i++) {
      const o = i * C;
      for (let s = 0; s < slots; s++) {
        const row = idx[i * slots + s]! * C;
        for (let c = 0; c < C; c++) dst[row + c]! += src[o + c]!;
      }
    }
    return out;
  };
}

/** Cache-blocked 2-D transpose (blocks of 32×32 floats = 4 KiB stay in L1). */
function transpose2DKernel(backendName: 'wasm' | 'cpu'): KernelFunc {
  return ({ inputs, backend }) => {
    const { x } = inputs as { x: TensorInfo };
    const M = x.shape[0]!;
    const C = x.shape[1]!;
    const dtype = x.dtype === 'int32' ? 'int32' : 'float32';
    const { out, outView, views } = prepare(backend, backendName, [x], [C, M], dtype, false);
    const src = views[0]!;
    const dst = outView;
    const B = 32;
    for (let i0 = 0; i0 < M; i0 += B) {
      const i1 = Math.min(M, i0 + B);
      for (let c0 = 0; c0 < C; c0 += B) {
        const c1 = Math.min(C, c0 + B);
        for (let i = i0; i < i1; i++) {
          const row = i * C;
          for (let c = c0; c < c1; c++) dst[c * M + i] = src[row + c]!;
        }
      }
    }
    return out;
  };
}

/** tfjs-core UnsortedSegmentSum: out[segmentIds[r], …] += x[r, …]; ids outside [0, numSegments) are dropped. */
function unsortedSegmentSumKernel(backendName: 'wasm' | 'cpu'): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { x, segmentIds } = inputs as { x: TensorInfo; segmentIds: TensorInfo };
    const numSegments = (attrs as NamedAttrMap).numSegments as number;
    const idsSize = segmentIds.shape.reduce((a, b) => a * b, 1);
    const xSize = x.shape.reduce((a, b) => a * b, 1);
    const inner = idsSize === 0 ? 0 : xSize / idsSize;
    const outShape = [numSegments, ...x.shape.slice(segmentIds.shape.length)];
    const dtype = x.dtype === 'int32' ? 'int32' : 'float32';
    const { out, outView, views } = prepare(backend, backendName, [x, segmentIds], outShape, dtype, true);
    const src = views[0]!;
    const ids = views[1] as Int32Array;
    for (let r = 0; r < idsSize; r++) {
      const seg = ids[r]!;
      if (seg < 0 || seg >= numSegments) continue;
      const o = seg * inner;
      const s = r * inner;
      for (let c = 0; c < inner; c++) outView[o + c]! += src[s + c]!;
    }
    return out;
  };
}

let registered = false;

/** Registers the kernels once per process (idempotent; never replaces a kernel tfjs ships). */
export function registerIonsieveKernels(): void {
  if (registered) return;
  registered = true;
  for (const backendName of ['wasm', 'cpu'] as const) {
    const configs: KernelConfig[] = [
      { kernelName: SLOT_GATHER_SUM, backendName, kernelFunc: slotGatherSumKernel(backendName) },
      { kernelName: SLOT_SCATTER_SUM, backendName, kernelFunc: slotScatterSumKernel(backendName) },
      { kernelName: TRANSPOSE_2D, backendName, kernelFunc: transpose2DKernel(backendName) },
    ];
    if (backendName === 'wasm') {
      configs.push({ kernelName: 'UnsortedSegmentSum', backendName, kernelFunc: unsortedSegmentSumKernel('wasm') });
    }
    for (const config of configs) {
      if (!tf.getKernel(config.kernelName, backendName)) tf.registerKernel(config);
    }
  }
}

/** Whether the current backend runs our JS kernels (else ops use composite tfjs fallbacks). */
export function hasIonsieveKernels(): boolean {
  const name = tf.getBackend();
  return (name === 'wasm' || name === 'cpu') && tf.getKernel(SLOT_GATHER_SUM, name) !== undefined;
}
