/**
 * How many NaN or infinite values each of a list of tensors holds, on the GPU: a guard over a
 * network's parameters that costs one small kernel per tensor and no readback of its own.
 */
import { empty, type Tensor } from '../tensor.js';
import { countNonFiniteInto } from '../kernels/metrics/non_finite.js';
import { checkFloat } from '../checks.js';

/**
 * An f32 vector [tensors.length]: entry i = the number of NaN and ±Infinity elements of
 * tensors[i] (exact below 2^24). Not differentiable. Read it with the values you read anyway
 * (e.g. concatenated to a metrics vector) to check a model's weights without an extra sync.
 */
export function nonFiniteCounts(tensors: readonly Tensor[]): Tensor {
  checkFloat('nonFiniteCounts', ...tensors);
  const out = empty([tensors.length]);
  tensors.forEach((t, i) => countNonFiniteInto(t, out, i));
  return out;
}
