/**
 * Generalized-mean (GeM) pooling, MultiGrain's pooling layer:
 *   e[n, c] = ( mean_{h,w} max(x[n, c, h, w], eps)^p )^(1/p)
 * with p a [1] tensor read on the GPU (learnable: the gradient w.r.t. p is computed, also when
 * x needs none) or a static number. p = 1 is average pooling of the clamped input, p = Infinity
 * max pooling (the kernels switch on the value, so a p tensor may hold +inf too).
 *
 * Kernels `pooling/gem` / `pooling/gem_backward` (src/engine/kernels/pooling/) reduce rows of
 * H*W values with T threads per row; the backward recomputes the row statistics in the same
 * pass that writes dx, so nothing but x is saved. The per-row dp terms are summed by the
 * engine's `sum`.
 */
import { Tensor, shapeString } from '../tensor.js';
import { record } from '../tape.js';
import { checkFloat, checkRank } from '../checks.js';
import { reduceSum } from '../kernels/reduce/sum.js';
import { rowPool } from '../kernels/pooling/gem.js';
import { rowPoolBackward } from '../kernels/pooling/gem_backward.js';

export interface GemOptions {
  /** Lower clamp of the input before the power (default 1e-6). */
  eps?: number;
}

/**
 * GeM pooling of x [N, C, H, W] -> [N, C]. `p` is a [1] tensor (may be a learnable parameter;
 * its value stays on the GPU) or a static number (`Infinity` for max pooling).
 */
export function gem(x: Tensor, p: Tensor | number, options: GemOptions = {}): Tensor {
  const op = 'gem';
  checkFloat(op, x);
  checkRank(op, x, 4);
  const eps = options.eps ?? 1e-6;
  if (p instanceof Tensor) {
    checkFloat(op, p);
    if (p.size !== 1) throw new Error(`${op}: p must be a one-element tensor, got ${shapeString(p.shape)}`);
  } else if (!(p > 0)) {
    throw new Error(`${op}: p must be positive (or Infinity), got ${p}`);
  }
  const [n, c, h, w] = x.shape;
  const rows = n * c;
  const len = h * w;
  if (len === 0) throw new Error(`${op}: empty spatial size in ${shapeString(x.shape)}`);
  const flat = rowPool(x, rows, len, { p, eps });
  const out = flat.view([n, c]);
  flat.dispose();
  const inputs = p instanceof Tensor ? [x, p] : [x];
  const inShape = x.shape;
  record(op, inputs, [out], ([g], needs, [xs, ps]) => {
    const pTensor = p instanceof Tensor;
    const needDp = pTensor && needs[1] === true;
    const { dx, dpRow } = rowPoolBackward(g!, xs, rows, len, { p: pTensor ? ps : p, eps }, inShape, needs[0], needDp);
    let dp: Tensor | null = null;
    if (dpRow) {
      const total = reduceSum(dpRow, [0]);
      dp = total.view([1]);
      total.dispose();
      dpRow.dispose();
    }
    return pTensor ? [dx, dp] : [dx];
  }, inputs);
  return out;
}
