/** Copies and constants shaped like a tensor (no autograd). */
import { type Tensor } from '../tensor.js';
import { copyStrided, fillLike } from '../kernels/elementwise/map.js';
import { checkLive } from '../checks.js';

/** A copy with its own storage. */
export function copy(x: Tensor): Tensor {
  checkLive('copy', x);
  return copyStrided(x, x.shape);
}

/** A tensor of `x`'s shape filled with `value` (no upload). */
export function fullLike(x: Tensor, value: number): Tensor {
  checkLive('fullLike', x);
  return fillLike(x, value);
}

export function onesLike(x: Tensor): Tensor {
  return fullLike(x, 1);
}

export function zerosLike(x: Tensor): Tensor {
  return fullLike(x, 0);
}
