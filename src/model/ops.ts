/**
 * Differentiable building blocks with hand-written gradients (tf.customGrad), arranged so that
 * every heavy operation, forward and backward, is a *non-transposed* matMul (XNNPACK's fast path on
 * wasm) or one of our memory-speed JS kernels. Reductions over the atom axis are matMuls with a
 * ones row instead of axis-0 sums (slow on wasm). On backends without our kernels the same maths
 * runs through composite tfjs ops. When OpenBLAS runs the products (src/model/native-matmul.ts),
 * transposed products cost the same as plain ones, so the gradients pass transpose flags instead of
 * materialising transposes.
 */
import * as tf from '@tensorflow/tfjs';
import {
  COLUMN_BLOCK, COLUMN_BLOCK_GRAD, COLUMN_SUM, GATED_SOFTPLUS, GATED_SOFTPLUS_GRAD, hasIonsieveKernels, SLOT_GATHER, SLOT_GATHER_T,
  SLOT_MIX_TYPED, SLOT_MIX_TYPED_GRAD, SLOT_SCATTER, TRANSPOSE_2D,
} from './kernels.js';
import { fastTransposedMatMul } from './native-matmul.js';

type GradientFunction = (dy: tf.Tensor, saved: tf.Tensor[]) => tf.Tensor[];
type CustomForward = (...args: never[]) => { value: tf.Tensor; gradFunc: GradientFunction };

/** tf.customGrad with per-argument parameter types (its own typing takes `...(Tensor | save)[]`). */
function customGrad(f: CustomForward): (...args: tf.Tensor[]) => tf.Tensor {
  return tf.customGrad(f as unknown as Parameters<typeof tf.customGrad>[0]) as (...args: tf.Tensor[]) => tf.Tensor;
}

/** xᵀ for a 2-D tensor. */
export function transpose2D(x: tf.Tensor2D): tf.Tensor2D {
  if (hasIonsieveKernels()) return tf.engine().runKernel(TRANSPOSE_2D, { x }) as tf.Tensor2D;
  return tf.transpose(x);
}

/** Σ over rows as [1, C] (not differentiated; used inside hand-written gradients). */
export function sumRows(x: tf.Tensor2D): tf.Tensor2D {
  if (hasIonsieveKernels()) return tf.engine().runKernel(COLUMN_SUM, { x }) as tf.Tensor2D;
  return tf.sum(x, 0, true);
}

/**
 * y = x·W (+ b). Gradients: dx = dy·Wᵀ, dW = xᵀ·dy, db = 1ᵀ·dy, with the transposes materialised
 * so that all three are plain matMuls. `xT` may be passed when x is a constant whose transpose is
 * precomputed (batch inputs); then no gradient flows to x.
 */
export function linear(x: tf.Tensor2D, w: tf.Tensor2D, b?: tf.Tensor1D): tf.Tensor2D {
  if (b) {
    const f = customGrad((xi: tf.Tensor, wi: tf.Tensor, bi: tf.Tensor, save: tf.GradSaveFunc) => {
      const x2 = xi as tf.Tensor2D, w2 = wi as tf.Tensor2D;
      save([x2, w2]);
      return { value: tf.add(tf.matMul(x2, w2), bi), gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => linearGrads(dy as tf.Tensor2D, saved, true) };
    });
    return f(x, w, b) as tf.Tensor2D;
  }
  const f = customGrad((xi: tf.Tensor, wi: tf.Tensor, save: tf.GradSaveFunc) => {
    const x2 = xi as tf.Tensor2D, w2 = wi as tf.Tensor2D;
    save([x2, w2]);
    return { value: tf.matMul(x2, w2), gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => linearGrads(dy as tf.Tensor2D, saved, false) };
  });
  return f(x, w) as tf.Tensor2D;
}

function linearGrads(dy: tf.Tensor2D, saved: tf.Tensor[], withBias: boolean): tf.Tensor[] {
  const [x, w] = saved as [tf.Tensor2D, tf.Tensor2D];
  const transposed = fastTransposedMatMul();
  const dx = transposed ? tf.matMul(dy, w, false, true) : tf.matMul(dy, transpose2D(w));
  const dw = transposed ? tf.matMul(x, dy, true, false) : tf.matMul(transpose2D(x), dy);
  if (!withBias) return [dx, dw];
  return [dx, dw, sumRows(dy).reshape([dy.shape[1]])];
}

function requireTranspose(t: tf.Tensor2D | undefined): tf.Tensor2D {
  if (!t) throw new Error('an inference batch (no transposes) cannot be differentiated; build it with training: true');
  return t;
}

/** xᵀ·dy from the batch's precomputed xT, or straight from x where transposed products are fast. */
function constantTransposeTimes(x: tf.Tensor2D, xT: tf.Tensor2D | undefined, dy: tf.Tensor2D): tf.Tensor2D {
  if (!xT && fastTransposedMatMul()) return tf.matMul(x, dy, true, false);
  return tf.matMul(requireTranspose(xT), dy);
}

/**
 * y = xConst·W (+ b) for a constant input with precomputed xT [in, N]: only dW (and db) flow back.
 * xT may be omitted for inference.
 */
export function linearConstInput(x: tf.Tensor2D, xT: tf.Tensor2D | undefined, w: tf.Tensor2D, b?: tf.Tensor1D): tf.Tensor2D {
  if (b) {
    const f = customGrad((wi: tf.Tensor, bi: tf.Tensor) => ({
      value: tf.add(tf.matMul(x, wi as tf.Tensor2D), bi),
      gradFunc: (dy: tf.Tensor) => [constantTransposeTimes(x, xT, dy as tf.Tensor2D), sumRows(dy as tf.Tensor2D).reshape([dy.shape[1]!])],
    }));
    return f(w, b) as tf.Tensor2D;
  }
  const f = customGrad((wi: tf.Tensor) => ({
    value: tf.matMul(x, wi as tf.Tensor2D),
    gradFunc: (dy: tf.Tensor) => [constantTransposeTimes(x, xT, dy as tf.Tensor2D)],
  }));
  return f(w) as tf.Tensor2D;
}

/**
 * CGCNN's gate on u [N, 2F]: m = σ(u[:, :F]) ⊙ softplus(u[:, F:]) → [N, F]. Fused JS kernels on
 * wasm/cpu; elsewhere tf.split + element-wise ops.
 */
export function gatedSoftplus(u: tf.Tensor2D): tf.Tensor2D {
  if (!hasIonsieveKernels()) {
    const [gate, core] = tf.split(u, 2, 1);
    return tf.mul(tf.sigmoid(gate!), tf.softplus(core!)) as tf.Tensor2D;
  }
  const f = customGrad((ui: tf.Tensor, save: tf.GradSaveFunc) => {
    save([ui]);
    return {
      value: tf.engine().runKernel(GATED_SOFTPLUS, { u: ui }) as tf.Tensor2D,
      gradFunc: (dm: tf.Tensor, saved: tf.Tensor[]) => [tf.engine().runKernel(GATED_SOFTPLUS_GRAD, { u: saved[0]!, dm }) as tf.Tensor2D],
    };
  });
  return f(u) as tf.Tensor2D;
}

/** x[:, offset : offset + width] with its gradient (zero-padded back to x's width). */
export function columnBlock(x: tf.Tensor2D, offset: number, width: number): tf.Tensor2D {
  const total = x.shape[1];
  const rows = x.shape[0];
  const fast = hasIonsieveKernels();
  const f = customGrad((xi: tf.Tensor) => ({
    value: fast
      ? (tf.engine().runKernel(COLUMN_BLOCK, { x: xi }, { offset, width }) as tf.Tensor2D)
      : tf.slice(xi as tf.Tensor2D, [0, offset], [rows, width]),
    gradFunc: (dy: tf.Tensor) => [
      fast
        ? (tf.engine().runKernel(COLUMN_BLOCK_GRAD, { dy }, { offset, total }) as tf.Tensor2D)
        : tf.pad(dy as tf.Tensor2D, [[0, 0], [offset, total - offset - width]]),
    ],
  }));
  return f(x) as tf.Tensor2D;
}

/**
 * The §3.2 joint-neighbourhood map u_i = W·[h_{j_i(0)} ‖ … ‖ h_{j_i(S−1)}] for every atom at once:
 * h [N, F], w [S·F, 2F] (slot-major row blocks), index [N·S] (atom of each slot) → u [N, 2F].
 *
 *   forward   z = gather(h) [N, S·F];  u = z·w                         (w small → cheap to pack)
 *   backward  dw = zᵀ·du  (zᵀ gathered directly in transposed layout)
 *             dz = du·wᵀ;  dh = scatter-add of dz's slot blocks onto their atoms
 * Every matMul keeps its large operand on the left: XNNPACK repacks the right operand on each call.
 */
export function slotMix(h: tf.Tensor2D, w: tf.Tensor2D, index: tf.Tensor1D, slots: number): tf.Tensor2D {
  const n = index.shape[0] / slots;
  const rows = h.shape[0];
  const features = h.shape[1];
  const fast = hasIonsieveKernels();
  const gather = (hi: tf.Tensor2D): tf.Tensor2D =>
    fast
      ? (tf.engine().runKernel(SLOT_GATHER, { h: hi, index }, { slots }) as tf.Tensor2D)
      : tf.reshape(tf.gather(hi, index), [n, slots * features]);
  const f = customGrad((hi: tf.Tensor, wi: tf.Tensor, save: tf.GradSaveFunc) => {
    save([hi, wi]);
    return {
      value: tf.matMul(gather(hi as tf.Tensor2D), wi as tf.Tensor2D),
      gradFunc: (du: tf.Tensor, saved: tf.Tensor[]) => {
        const [hs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
        const du2 = du as tf.Tensor2D;
        let dw: tf.Tensor2D;
        let dz: tf.Tensor2D; // [N, S·F]
        if (fastTransposedMatMul()) {
          // OpenBLAS: zᵀ·du and du·wᵀ straight from z and w (re-gathering z costs less than keeping it).
          dw = tf.matMul(gather(hs), du2, true, false);
          dz = tf.matMul(du2, ws, false, true);
        } else {
          const zT = fast
            ? (tf.engine().runKernel(SLOT_GATHER_T, { h: hs, index }, { slots }) as tf.Tensor2D)
            : tf.transpose(gather(hs));
          dw = tf.matMul(zT, du2);
          dz = tf.matMul(du2, transpose2D(ws));
        }
        const dh = fast
          ? (tf.engine().runKernel(SLOT_SCATTER, { dz, index }, { slots, rows }) as tf.Tensor2D)
          : tf.unsortedSegmentSum(tf.reshape(dz, [n * slots, features]), index, rows);
        return [dh, dw];
      },
    };
  });
  return f(h, w) as tf.Tensor2D;
}

/**
 * slotMix for the first layer when the atoms have only D distinct input rows (D ≪ N: one per species
 * mix in the batch): h [D, F] holds the distinct rows and index [N·S] = s·D + type of the atom slot s
 * reads. The same u as slotMix(rows of h per atom, w, …), with the products over D rows instead of
 * N (native kernels only: src/model/native.ts; batches carry the layout when they are available).
 */
export function slotMixTyped(h: tf.Tensor2D, w: tf.Tensor2D, index: tf.Tensor1D, slots: number): tf.Tensor2D {
  const f = customGrad((hi: tf.Tensor, wi: tf.Tensor, save: tf.GradSaveFunc) => {
    save([hi, wi]);
    return {
      value: tf.engine().runKernel(SLOT_MIX_TYPED, { h: hi, w: wi, index }, { slots }) as tf.Tensor2D,
      gradFunc: (du: tf.Tensor, saved: tf.Tensor[]) =>
        tf.engine().runKernel(SLOT_MIX_TYPED_GRAD, { h: saved[0]!, w: saved[1]!, index, du }, { slots }) as unknown as tf.Tensor[],
    };
  });
  return f(h, w) as tf.Tensor2D;
}

/** h[index[i]] for every i (rows of h [R, F] → [N, F]); the gradient scatter-adds back onto h's rows. */
export function gatherRows(h: tf.Tensor2D, index: tf.Tensor1D): tf.Tensor2D {
  const rows = h.shape[0];
  if (!hasIonsieveKernels()) return tf.gather(h, index) as tf.Tensor2D;
  const f = customGrad((hi: tf.Tensor) => ({
    value: tf.engine().runKernel(SLOT_GATHER, { h: hi, index }, { slots: 1 }) as tf.Tensor2D,
    gradFunc: (dy: tf.Tensor) => [tf.engine().runKernel(SLOT_SCATTER, { dz: dy, index }, { slots: 1, rows }) as tf.Tensor2D],
  }));
  return f(h) as tf.Tensor2D;
}

export const BATCH_NORM_EPSILON = 1e-5;

export interface BatchNormResult {
  y: tf.Tensor2D;
  /** Batch mean and biased variance [C] (for the moving averages; not part of the graph). */
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
}

/**
 * Training-mode batch normalisation over the rows (atoms) of x [N, C]:
 * y = γ·(x − μ)/√(σ² + ε) + β with the batch's μ, σ². Hand-written gradient (the standard
 * three-term formula) so that all reductions are ones-row matMuls.
 */
export function batchNormTrain(x: tf.Tensor2D, gamma: tf.Tensor1D, beta: tf.Tensor1D): BatchNormResult {
  const n = x.shape[0];
  const stats: { mean?: tf.Tensor1D; variance?: tf.Tensor1D } = {};
  const f = customGrad((xi: tf.Tensor, gi: tf.Tensor, bi: tf.Tensor, save: tf.GradSaveFunc) => {
    const x2 = xi as tf.Tensor2D;
    const mean = tf.div(sumRows(x2), n); // [1, C]
    const centred = tf.sub(x2, mean);
    const variance = tf.div(sumRows(tf.square(centred) as tf.Tensor2D), n); // [1, C]
    const invStd = tf.rsqrt(tf.add(variance, BATCH_NORM_EPSILON)); // [1, C]
    const xHat = tf.mul(centred, invStd) as tf.Tensor2D;
    stats.mean = tf.keep(mean.reshape([x2.shape[1]])) as tf.Tensor1D;
    stats.variance = tf.keep(variance.reshape([x2.shape[1]])) as tf.Tensor1D;
    save([xHat, invStd, gi]);
    return {
      value: tf.add(tf.mul(xHat, gi), bi),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xh, inv, g] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
        const dy2 = dy as tf.Tensor2D;
        const dBeta = sumRows(dy2); // [1, C]
        const dGamma = sumRows(tf.mul(dy2, xh) as tf.Tensor2D); // [1, C]
        // dx = γ·inv/N · (N·dy − Σdy − x̂·Σ(dy·x̂))
        const dx = tf.mul(
          tf.mul(g, tf.div(inv, n)),
          tf.sub(tf.sub(tf.mul(dy2, n), dBeta), tf.mul(xh, dGamma)),
        );
        const c = dy2.shape[1];
        return [dx, dGamma.reshape([c]), dBeta.reshape([c])];
      },
    };
  });
  const y = f(x, gamma, beta) as tf.Tensor2D;
  return { y, mean: stats.mean!, variance: stats.variance! };
}

/** Inference-mode batch normalisation with moving statistics. */
export function batchNormInfer(
  x: tf.Tensor2D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  movingMean: tf.Tensor1D,
  movingVariance: tf.Tensor1D,
): tf.Tensor2D {
  const scale = tf.mul(gamma, tf.rsqrt(tf.add(movingVariance, BATCH_NORM_EPSILON)));
  return tf.add(tf.mul(tf.sub(x, movingMean), scale), beta) as tf.Tensor2D;
}

/**
 * Per-crystal mean of atom rows: pool [B, N] (1/N_c on crystal c's atoms) · h [N, F]; the
 * gradient uses the precomputed poolT [N, B] so it is a plain matMul as well.
 */
export function meanPool(h: tf.Tensor2D, pool: tf.Tensor2D, poolT: tf.Tensor2D | undefined): tf.Tensor2D {
  const f = customGrad((hi: tf.Tensor) => ({
    value: tf.matMul(pool, hi as tf.Tensor2D),
    gradFunc: (dy: tf.Tensor) => [constantTransposeTimes(pool, poolT, dy as tf.Tensor2D)],
  }));
  return f(h) as tf.Tensor2D;
}

/**
 * out[index[e]] += x[e] for every row e (x [E, F] → [rows, F]); the gradient gathers dy's rows back.
 * With rows of x pre-multiplied by normalised weights this is the weighted mean over each atom's edges.
 */
export function scatterRows(x: tf.Tensor2D, index: tf.Tensor1D, rows: number): tf.Tensor2D {
  if (!hasIonsieveKernels()) return tf.unsortedSegmentSum(x, index, rows) as tf.Tensor2D;
  const f = customGrad((xi: tf.Tensor) => ({
    value: tf.engine().runKernel(SLOT_SCATTER, { dz: xi, index }, { slots: 1, rows }) as tf.Tensor2D,
    gradFunc: (dy: tf.Tensor) => [tf.engine().runKernel(SLOT_GATHER, { h: dy, index }, { slots: 1 }) as tf.Tensor2D],
  }));
  return f(x) as tf.Tensor2D;
}

