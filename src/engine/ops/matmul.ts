/** Batched matrix product with optional transposes, and `linear` on top of it. */
import matmulSource from '../../../shaders/matmul.wgsl';
import { runtime } from '../runtime.js';
import { Uniforms } from '../uniforms.js';
import { empty, type Tensor, shapeString } from '../tensor.js';
import { record } from '../tape.js';
import { sumTo } from './reduce.js';
import { add } from './arithmetic.js';
import { checkFloat } from './checks.js';

export interface MatmulOptions {
  transA?: boolean;
  transB?: boolean;
}

interface Dims {
  batch: number;
  M: number;
  N: number;
  K: number;
  aBatch: number;
  bBatch: number;
}

function dims(a: Tensor, b: Tensor, transA: boolean, transB: boolean): Dims {
  if (a.rank < 2 || b.rank < 2 || a.rank > 3 || b.rank > 3) {
    throw new Error(`matmul: operands must be 2-D or 3-D (batched), got ${shapeString(a.shape)} and ${shapeString(b.shape)}`);
  }
  const aBatch = a.rank === 3 ? a.shape[0] : 1;
  const bBatch = b.rank === 3 ? b.shape[0] : 1;
  const [ar, ac] = a.shape.slice(-2);
  const [br, bc] = b.shape.slice(-2);
  const M = transA ? ac : ar;
  const K = transA ? ar : ac;
  const Kb = transB ? bc : br;
  const N = transB ? br : bc;
  if (K !== Kb || (aBatch !== bBatch && aBatch !== 1 && bBatch !== 1)) {
    throw new Error(
      `matmul: shapes ${shapeString(a.shape)}${transA ? 'ᵀ' : ''} and ${shapeString(b.shape)}${transB ? 'ᵀ' : ''} do not match (inner dims ${K} vs ${Kb})`,
    );
  }
  return { batch: Math.max(aBatch, bBatch), M, N, K, aBatch, bBatch };
}

/** The matmul kernel without autograd; `bias` (length N) is added to every row. */
export function matmulRaw(a: Tensor, b: Tensor, transA = false, transB = false, bias?: Tensor): Tensor {
  checkFloat('matmul', a, b);
  const d = dims(a, b, transA, transB);
  const outShape = a.rank === 3 || b.rank === 3 ? [d.batch, d.M, d.N] : [d.M, d.N];
  const out = empty(outShape);
  const rt = runtime();
  const u = new Uniforms()
    .u32(d.M).u32(d.N).u32(d.K).u32(d.batch)
    .u32(d.aBatch === 1 ? 0 : d.M * d.K).u32(d.bBatch === 1 ? 0 : d.K * d.N).u32(d.M * d.N).u32(0);
  const buffers = bias ? [a.buffer, b.buffer, bias.buffer, out.buffer] : [a.buffer, b.buffer, out.buffer];
  rt.dispatch(
    { name: 'matmul', source: matmulSource, defines: { TRANS_A: transA, TRANS_B: transB, BIAS: !!bias } },
    { uniforms: u, buffers, workgroups: [Math.ceil(d.N / 64), Math.ceil(d.M / 64), d.batch] },
  );
  return out;
}

/** C = op(A) · op(B); 2-D, or batched 3-D (a batch of 1 broadcasts). */
export function matmul(a: Tensor, b: Tensor, options: MatmulOptions = {}): Tensor {
  const transA = !!options.transA;
  const transB = !!options.transB;
  const out = matmulRaw(a, b, transA, transB);
  record('matmul', [a, b], [out], ([g], needs) => {
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
