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
 *   IonsieveSlotGather     h [R, F], index [N·S] → z [N, S·F],  z[i, s·F + f] = h[index[i·S + s], f]
 *   IonsieveSlotGatherTransposed  the same written as zᵀ [S·F, N] (for dW = zᵀ·dU)
 *   IonsieveSlotScatter    dz [N, S·F], index → dh [R, F],  dh[index[i·S + s]] += dz[i, s·F : s·F + F]
 *   IonsieveTranspose2D    x [M, C] → [C, M]
 *   IonsieveColumnSum      x [M, C] → [1, C]  (BN statistics; a ones-row matMul costs ~2.4 ms on
 *                          wasm because XNNPACK repacks the [M, C] operand, this loop ~0.3 ms)
 *   IonsieveColumnBlock    x [M, W] → x[:, offset : offset + width]   (Slice moves ~30 M/s on wasm)
 *   IonsieveColumnBlockGrad dy [M, width] → [M, W], dy placed at `offset`, zeros elsewhere
 *   IonsieveGatedSoftplus  u [M, 2F] → m [M, F] = σ(u[:, :F]) ⊙ softplus(u[:, F:])   (CGCNN gate, fused:
 *                          no half-slicing, one pass instead of five element-wise kernels)
 *   IonsieveGatedSoftplusGrad (u, dm) → du [M, 2F]
 *   UnsortedSegmentSum     (wasm only; tfjs-core semantics, any trailing shape)
 *   IonsieveSlotMixTyped / …Grad  (wasm with the native addon only) the first layer's slot map over
 *                          the batch's distinct atom types: h [D, F], w [S·F, 2F], index [N·S] → u [N, 2F]
 *
 * Where the native addon is built (src/model/native.ts), the gather, scatter, column sum and gated
 * softplus kernels run its compiled loops instead (same formulas; test/model/native.test.ts).
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, TensorInfo, NamedAttrMap } from '@tensorflow/tfjs';
import { nativeKernels } from './native.js';

export const SLOT_GATHER = 'IonsieveSlotGather';
export const SLOT_GATHER_T = 'IonsieveSlotGatherTransposed';
export const SLOT_SCATTER = 'IonsieveSlotScatter';
export const TRANSPOSE_2D = 'IonsieveTranspose2D';
export const COLUMN_SUM = 'IonsieveColumnSum';
export const COLUMN_BLOCK = 'IonsieveColumnBlock';
export const GATED_SOFTPLUS = 'IonsieveGatedSoftplus';
export const GATED_SOFTPLUS_GRAD = 'IonsieveGatedSoftplusGrad';
export const COLUMN_BLOCK_GRAD = 'IonsieveColumnBlockGrad';
export const SLOT_MIX_TYPED = 'IonsieveSlotMixTyped';
export const SLOT_MIX_TYPED_GRAD = 'IonsieveSlotMixTypedGrad';

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

function slotGatherKernel(backendName: 'wasm' | 'cpu'): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { h, index } = inputs as { h: TensorInfo; index: TensorInfo };
    const slots = (attrs as NamedAttrMap).slots as number;
    const F = h.shape[1]!;
    const N = index.shape[0]! / slots;
    const W = slots * F;
    const { out, outView, views } = prepare(backend, backendName, [h, index], [N, W], 'float32', false);
    const src = views[0] as Float32Array;
    const idx = views[1] as Int32Array;
    const dst = outView as Float32Array;
    const native = nativeKernels();
    if (native) {
      native.slotGather(src, idx, dst, N, slots, F);
      return out;
    }
    for (let i = 0; i < N; i++) {
      for (let s = 0; s < slots; s++) {
        const from = idx[i * slots + s]! * F;
        dst.set(src.subarray(from, from + F), i * W + s * F);
      }
    }
    return out;
  };
}

function slotGatherTransposedKernel(backendName: 'wasm' | 'cpu'): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { h, index } = inputs as { h: TensorInfo; index: TensorInfo };
    const slots = (attrs as NamedAttrMap).slots as number;
    const F = h.shape[1]!;
    const N = index.shape[0]! / slots;
    const { out, outView, views } = prepare(backend, backendName, [h, index], [slots * F, N], 'float32', false);
    const src = views[0] as Float32Array;
    const idx = views[1] as Int32Array;
    const dst = outView as Float32Array;
    // Blocks of 16 atoms keep the 16 destination cache lines of each row hot.
    const B = 16;
    for (let i0 = 0; i0 < N; i0 += B) {
      const i1 = Math.min(N, i0 + B);
      for (let s = 0; s < slots; s++) {
        for (let i = i0; i < i1; i++) {
          const from = idx[i * slots + s]! * F;
          let to = s * F * N + i;
          for (let f = 0; f < F; f++, to += N) dst[to] = src[from + f]!;
        }
      }
    }
    return out;
  };
}

function slotScatterKernel(backendName: 'wasm' | 'cpu'): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { dz, index } = inputs as { dz: TensorInfo; index: TensorInfo };
    const slots = (attrs as NamedAttrMap).slots as number;
    const rows = (attrs as NamedAttrMap).rows as number;
    const N = dz.shape[0]!;
    const W = dz.shape[1]!;
    const F = W / slots;
    const native = nativeKernels();
    // The native scatter zeroes its output itself.
    const { out, outView, views } = prepare(backend, backendName, [dz, index], [rows, F], 'float32', !native);
    const src = views[0] as Float32Array;
    const idx = views[1] as Int32Array;
    const dst = outView as Float32Array;
    if (native) {
      native.slotScatter(src, idx, dst, N, slots, F);
      return out;
    }
    for (let i = 0; i < N; i++) {
      for (let s = 0; s < slots; s++) {
        const to = idx[i * slots + s]! * F;
        const from = i * W + s * F;
        for (let f = 0; f < F; f++) dst[to + f]! += src[from + f]!;
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

function columnSumKernel(backendName: 'wasm' | 'cpu'): KernelFunc {
  return ({ inputs, backend }) => {
    const { x } = inputs as { x: TensorInfo };
    const M = x.shape[0]!;
    const C = x.shape[1]!;
    const { out, outView, views } = prepare(backend, backendName, [x], [1, C], 'float32', false);
    const src = views[0] as Float32Array;
    const native = nativeKernels();
    if (native) {
      native.columnSum(src, outView as Float32Array, M, C);
      return out;
    }
    // Accumulate in float64 so large atom counts do not lose precision.
    const acc = new Float64Array(C);
    for (let i = 0; i < M; i++) {
      const row = i * C;
      for (let c = 0; c < C; c++) acc[c]! += src[row + c]!;
    }
    for (let c = 0; c < C; c++) outView[c] = acc[c]!;
    return out;
  };
}

function columnBlockKernel(backendName: 'wasm' | 'cpu'): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { x } = inputs as { x: TensorInfo };
    const offset = (attrs as NamedAttrMap).offset as number;
    const width = (attrs as NamedAttrMap).width as number;
    const M = x.shape[0]!;
    const W = x.shape[1]!;
    const { out, outView, views } = prepare(backend, backendName, [x], [M, width], 'float32', false);
    const src = views[0] as Float32Array;
    for (let i = 0; i < M; i++) (outView as Float32Array).set(src.subarray(i * W + offset, i * W + offset + width), i * width);
    return out;
  };
}

function columnBlockGradKernel(backendName: 'wasm' | 'cpu'): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { dy } = inputs as { dy: TensorInfo };
    const offset = (attrs as NamedAttrMap).offset as number;
    const total = (attrs as NamedAttrMap).total as number;
    const M = dy.shape[0]!;
    const width = dy.shape[1]!;
    const { out, outView, views } = prepare(backend, backendName, [dy], [M, total], 'float32', true);
    const src = views[0] as Float32Array;
    for (let i = 0; i < M; i++) (outView as Float32Array).set(src.subarray(i * width, (i + 1) * width), i * total + offset);
    return out;
  };
}

/** softplus(x) = log(1 + eˣ), stable for large |x|. */
function softplus(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

function gatedSoftplusKernel(backendName: 'wasm' | 'cpu'): KernelFunc {
  return ({ inputs, backend }) => {
    const { u } = inputs as { u: TensorInfo };
    const M = u.shape[0]!;
    const F = u.shape[1]! / 2;
    const { out, outView, views } = prepare(backend, backendName, [u], [M, F], 'float32', false);
    const src = views[0] as Float32Array;
    const native = nativeKernels();
    if (native) {
      native.gatedSoftplus(src, outView as Float32Array, M, F);
      return out;
    }
    for (let i = 0; i < M; i++) {
      const row = i * 2 * F;
      for (let c = 0; c < F; c++) {
        const gate = 1 / (1 + Math.exp(-src[row + c]!));
        outView[i * F + c] = gate * softplus(src[row + F + c]!);
      }
    }
    return out;
  };
}

function gatedSoftplusGradKernel(backendName: 'wasm' | 'cpu'): KernelFunc {
  return ({ inputs, backend }) => {
    const { u, dm } = inputs as { u: TensorInfo; dm: TensorInfo };
    const M = u.shape[0]!;
    const F = u.shape[1]! / 2;
    const { out, outView, views } = prepare(backend, backendName, [u, dm], [M, 2 * F], 'float32', false);
    const src = views[0] as Float32Array;
    const grad = views[1] as Float32Array;
    const native = nativeKernels();
    if (native) {
      native.gatedSoftplusGrad(src, grad, outView as Float32Array, M, F);
      return out;
    }
    for (let i = 0; i < M; i++) {
      const row = i * 2 * F;
      for (let c = 0; c < F; c++) {
        const p = src[row + c]!;
        const s = src[row + F + c]!;
        const g = grad[i * F + c]!;
        const gate = 1 / (1 + Math.exp(-p));
        const eNeg = Math.exp(-Math.abs(s));
        // σ(s) from e^{−|s|} without overflow; softplus(s) = max(s, 0) + log1p(e^{−|s|}).
        const sigmoidS = s >= 0 ? 1 / (1 + eNeg) : eNeg / (1 + eNeg);
        const core = Math.max(s, 0) + Math.log1p(eNeg);
        outView[row + c] = g * gate * (1 - gate) * core;
        outView[row + F + c] = g * gate * sigmoidS;
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

function nativeOrThrow() {
  const native = nativeKernels();
  if (!native) throw new Error('the typed slot map needs the native kernels (src/model/native.ts)');
  return native;
}

function slotMixTypedKernel(): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { h, w, index } = inputs as { h: TensorInfo; w: TensorInfo; index: TensorInfo };
    const slots = (attrs as NamedAttrMap).slots as number;
    const [D, F] = h.shape as [number, number];
    const N = index.shape[0]! / slots;
    const { out, outView, views } = prepare(backend, 'wasm', [h, w, index], [N, 2 * F], 'float32', false);
    nativeOrThrow().slotMixTyped(views[0] as Float32Array, views[1] as Float32Array, views[2] as Int32Array, outView as Float32Array, N, slots, F, D);
    return out;
  };
}

function slotMixTypedGradKernel(): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { h, w, index, du } = inputs as { h: TensorInfo; w: TensorInfo; index: TensorInfo; du: TensorInfo };
    const slots = (attrs as NamedAttrMap).slots as number;
    const [D, F] = h.shape as [number, number];
    const N = index.shape[0]! / slots;
    const b = backend as WasmLikeBackend;
    const dh = b.makeOutput([D, F], 'float32');
    const dw = b.makeOutput(w.shape, 'float32');
    // Views after both allocations (each may grow the heap).
    const view = (t: TensorInfo) => b.typedArrayFromHeap(t);
    nativeOrThrow().slotMixTypedGrad(
      view(h) as Float32Array, view(w) as Float32Array, view(index) as Int32Array, view(du) as Float32Array,
      view(dh) as Float32Array, view(dw) as Float32Array, N, slots, F, D,
    );
    return [dh, dw];
  };
}

let registered = false;

/** Registers the kernels once per process (idempotent; never replaces a kernel tfjs ships). */
export function registerIonsieveKernels(): void {
  if (registered) return;
  registered = true;
  for (const backendName of ['wasm', 'cpu'] as const) {
    const configs: KernelConfig[] = [
      { kernelName: SLOT_GATHER, backendName, kernelFunc: slotGatherKernel(backendName) },
      { kernelName: SLOT_GATHER_T, backendName, kernelFunc: slotGatherTransposedKernel(backendName) },
      { kernelName: SLOT_SCATTER, backendName, kernelFunc: slotScatterKernel(backendName) },
      { kernelName: TRANSPOSE_2D, backendName, kernelFunc: transpose2DKernel(backendName) },
      { kernelName: COLUMN_SUM, backendName, kernelFunc: columnSumKernel(backendName) },
      { kernelName: COLUMN_BLOCK, backendName, kernelFunc: columnBlockKernel(backendName) },
      { kernelName: GATED_SOFTPLUS, backendName, kernelFunc: gatedSoftplusKernel(backendName) },
      { kernelName: GATED_SOFTPLUS_GRAD, backendName, kernelFunc: gatedSoftplusGradKernel(backendName) },
      { kernelName: COLUMN_BLOCK_GRAD, backendName, kernelFunc: columnBlockGradKernel(backendName) },
    ];
    if (backendName === 'wasm') {
      configs.push({ kernelName: 'UnsortedSegmentSum', backendName, kernelFunc: unsortedSegmentSumKernel('wasm') });
      configs.push({ kernelName: SLOT_MIX_TYPED, backendName, kernelFunc: slotMixTypedKernel() });
      configs.push({ kernelName: SLOT_MIX_TYPED_GRAD, backendName, kernelFunc: slotMixTypedGradKernel() });
    }
    for (const config of configs) {
      if (!tf.getKernel(config.kernelName, backendName)) tf.registerKernel(config);
    }
  }
}

let kernelsEnabled = true;

/** Tests only: force the composite-op fallbacks even where our kernels exist. */
export function setIonsieveKernelsEnabled(enabled: boolean): void {
  kernelsEnabled = enabled;
}

/** Whether the current backend runs our JS kernels (else ops use composite tfjs fallbacks). */
export function hasIonsieveKernels(): boolean {
  if (!kernelsEnabled) return false;
  const name = tf.getBackend();
  return (name === 'wasm' || name === 'cpu') && tf.getKernel(SLOT_GATHER, name) !== undefined;
}
