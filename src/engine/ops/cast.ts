/**
 * Dtype conversion between f32 and f16 (half-precision storage, for inference on devices with
 * `shader-f16`). Not differentiable: training stays f32.
 */
import type { Tensor } from '../tensor.js';
import { runtime } from '../runtime.js';
import { checkDtype } from '../checks.js';
import { isGradEnabled } from '../tape.js';
import { castRaw } from '../kernels/elementwise/cast.js';

/**
 * x as `dtype` ('f32' or 'f16') in a new tensor; x itself (a new view) when it already is.
 * f32 → f16 rounds to nearest even, values beyond ±65504 become ±Infinity.
 */
export function cast(x: Tensor, dtype: 'f32' | 'f16'): Tensor {
  const op = 'cast';
  checkDtype(op, x, ['f32', 'f16']);
  if (x.dtype === dtype) return x.view(x.shape);
  if (!runtime().gpu.hasF16) {
    throw new Error(`${op}: this device has no 'shader-f16' feature, so tensors cannot be converted to or from f16 (use precision 'f32' or 'auto')`);
  }
  if (isGradEnabled() && x.requiresGrad) {
    throw new Error(`${op}: not differentiable (half precision is for inference); run it under noGrad()`);
  }
  return castRaw(x, dtype);
}
