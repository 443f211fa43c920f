/** Copies and constants shaped like a tensor. */
import { empty, type Tensor } from '../tensor.js';
import { mapStrided, bitType } from './strided.js';
import { checkLive } from './checks.js';

/** A copy with its own storage (no autograd). */
export function copy(x: Tensor): Tensor {
  checkLive('copy', x);
  const out = empty(x.shape, x.dtype);
  mapStrided({ op: 'x', shape: x.shape, a: x, out, elementType: bitType(x.dtype) });
  return out;
}

/** A tensor of `x`'s shape filled with `value` (no upload). */
export function fullLike(x: Tensor, value: number): Tensor {
  checkLive('fullLike', x);
  const out = empty(x.shape);
  mapStrided({ op: 'alpha', shape: x.shape, a: x, out, alpha: value, elementType: 'f32' });
  return out;
}

export function onesLike(x: Tensor): Tensor {
  return fullLike(x, 1);
}

export function zerosLike(x: Tensor): Tensor {
  return fullLike(x, 0);
}
