/**
 * Marks the first step at which a value went non-finite, on the GPU (no readback per step).
 */
import type { Tensor } from '../tensor.js';
import { binaryMap } from '../kernels/elementwise/map.js';
import { checkFloat } from '../checks.js';

/**
 * Where `marker` is still negative (nothing seen yet) and `value` is NaN or infinite, `step`;
 * otherwise `marker`. Elementwise with broadcasting; a new tensor, not differentiable. Start
 * from a marker of -1 and feed each step's value to keep the first bad step.
 */
export function firstNonFiniteStep(marker: Tensor, value: Tensor, step: number): Tensor {
  checkFloat('firstNonFiniteStep', marker, value);
  return binaryMap('select(x, alpha, x < 0.0 && !(abs(y) <= 3.4e38))', marker, value, step);
}
