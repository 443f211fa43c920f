/** Sum and mean over axes, with autograd (rules in gradients.ts). */
import { type Tensor } from '../tensor.js';
import { record } from '../tape.js';
import { reduceSum } from '../kernels/reduce/sum.js';
import { normalizeAxes } from '../layout.js';
import { GRADIENTS } from '../gradients.js';
import { checkFloat } from '../checks.js';

function reduceOp(op: string, x: Tensor, axes: number | readonly number[] | undefined, keepDims: boolean, mean: boolean): Tensor {
  checkFloat(op, x);
  const ax = normalizeAxes(op, x.shape, axes);
  const count = ax.reduce((n, d) => n * x.shape[d], 1);
  const scale = mean ? 1 / Math.max(count, 1) : 1;
  const raw = reduceSum(x, ax, scale);
  const keptShape = x.shape.map((d, i) => (ax.includes(i) ? 1 : d));
  const out = keepDims ? raw.view(keptShape) : raw;
  if (keepDims) raw.dispose();
  record(op, [x], [out], GRADIENTS.sum(x.shape, keptShape, scale));
  return out;
}

/** Sum over `axes` (all by default). */
export function sum(x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
  return reduceOp('sum', x, axes, keepDims, false);
}

/** Mean over `axes` (all by default). */
export function mean(x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
  return reduceOp('mean', x, axes, keepDims, true);
}
