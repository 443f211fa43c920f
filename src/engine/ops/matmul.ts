/**
 * Batched matrix product with optional transposes, and `linear` on top of it (differentiable).
 * The kernels and their launcher `matmulRaw` are in kernels/matmul/.
 */
import { type Tensor, shapeString } from '../tensor.js';
import { record } from '../tape.js';
import { sumTo } from '../kernels/reduce/sum.js';
import { matmulRaw } from '../kernels/matmul/matmul.js';
import { add } from './elementwise.js';

export { matmulRaw, hasSubgroupKernel, type MatmulVariant, type MatmulRawOptions, type MatmulEpilogue } from '../kernels/matmul/matmul.js';

export interface MatmulOptions {
  transA?: boolean;
  transB?: boolean;
}

/** C = op(A) · op(B); 2-D, or batched 3-D (a batch of 1 broadcasts). */
export function matmul(a: Tensor, b: Tensor, options: MatmulOptions = {}): Tensor {
  const transA = !!options.transA;
  const transB = !!options.transB;
  const out = matmulRaw(a, b, transA, transB);
  record('matmul', [a, b], [out], ([g], needs, [a, b]) => {
    // dA = g·op(B)ᵀ (transposed back if A was), dB likewise; broadcast batches are summed.
    let ga: Tensor | null = null;
    let gb: Tensor | null = null;
    if (needs[0]) {
      const full = transA ? matmulRaw(b, g!, transB, true) : matmulRaw(g!, b, false, !transB);
      ga = sumTo(full, a.rank === 2 && full.rank === 3 ? [1, ...a.shape] : a.shape);
      full.dispose();
    }
    if (needs[1]) {
      const full = transB ? matmulRaw(g!, a, true, transA) : matmulRaw(a, g!, !transA, false);
      gb = sumTo(full, b.rank === 2 && full.rank === 3 ? [1, ...b.shape] : b.shape);
      full.dispose();
    }
    return [ga, gb];
  }, [a, b]);
  return out;
}

/** y = x·Wᵀ + b, with W of shape [out, in] (PyTorch's layout). */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor): Tensor {
  if (x.rank !== 2 || weight.rank !== 2 || x.shape[1] !== weight.shape[1]) {
    throw new Error(`linear: input ${shapeString(x.shape)} does not fit weight ${shapeString(weight.shape)} ([out, in])`);
  }
  if (bias && (bias.rank !== 1 || bias.shape[0] !== weight.shape[0])) {
    throw new Error(`linear: bias ${shapeString(bias.shape)} does not fit weight ${shapeString(weight.shape)}`);
  }
  const y = matmul(x, weight, { transB: true });
  if (!bias) return y;
  const out = add(y, bias);
  y.dispose();
  return out;
}
