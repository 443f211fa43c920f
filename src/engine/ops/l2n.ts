/**
 * Row L2 normalization, MultiGrain's `normalized_embedding`: y = x / (||x||_2 + 1e-6) per row
 * of x [N, D] (the epsilon is added to the norm, not under the square root).
 * Kernel `normalization/l2n` (src/engine/kernels/normalization/l2n.ts): one dispatch forward,
 * one backward.
 */
import type { Tensor } from '../tensor.js';
import { record } from '../tape.js';
import { checkFloat, checkRank } from '../checks.js';
import { l2normalizeRows } from '../kernels/normalization/l2n.js';

const L2N_EPS = 1e-6;

/** x / (||x||_2 + 1e-6) for each row of x [N, D]. */
export function l2normalize(x: Tensor): Tensor {
  const op = 'l2normalize';
  checkFloat(op, x);
  checkRank(op, x, 2);
  const out = l2normalizeRows(x, null, L2N_EPS);
  record(op, [x], [out], ([g], _needs, [xs]) => [l2normalizeRows(xs, g!, L2N_EPS)], [x]);
  return out;
}
