/** Shape ops: reshape (a view), expand, permute/transpose, slice, concat; rules in gradients.ts. */
import { empty, type Shape, type Tensor, shapeSize, shapeString } from '../tensor.js';
import { record } from '../tape.js';
import { copyStrided, mapStrided, bitType } from '../kernels/elementwise/map.js';
import { broadcastLayout, permutedLayout, slicedLayout } from '../layout.js';
import { GRADIENTS } from '../gradients.js';
import { checkLive } from '../checks.js';

/** Same values, another shape (no copy). One dimension may be -1. */
export function reshape(x: Tensor, shape: Shape): Tensor {
  checkLive('reshape', x);
  const known = shape.filter((d) => d !== -1);
  const inferred = shape.length - known.length;
  if (inferred > 1) throw new Error(`reshape: at most one -1 in ${shapeString(shape)}`);
  const full = inferred ? shape.map((d) => (d === -1 ? x.size / Math.max(shapeSize(known), 1) : d)) : [...shape];
  const out = x.view(full);
  record('reshape', [x], [out], GRADIENTS.reshape(x.shape));
  return out;
}

/** Broadcasts x to `shape` (a copy). */
export function expand(x: Tensor, shape: Shape): Tensor {
  checkLive('expand', x);
  const out = copyStrided(x, shape, broadcastLayout(x.shape, shape));
  record('expand', [x], [out], GRADIENTS.expand(x.shape));
  return out;
}

/** Reorders dimensions: out.shape[i] = x.shape[perm[i]]. */
export function permute(x: Tensor, perm: readonly number[]): Tensor {
  checkLive('permute', x);
  if (perm.length !== x.rank || [...perm].sort().some((p, i) => p !== i)) {
    throw new Error(`permute: ${JSON.stringify(perm)} is not a permutation of the ${x.rank} dims of ${shapeString(x.shape)}`);
  }
  const out = copyStrided(x, perm.map((p) => x.shape[p]), permutedLayout(x.shape, perm));
  record('permute', [x], [out], GRADIENTS.permute(perm));
  return out;
}

/** Swaps two dimensions (the last two by default). */
export function transpose(x: Tensor, dim0 = -2, dim1 = -1): Tensor {
  const d0 = dim0 < 0 ? dim0 + x.rank : dim0;
  const d1 = dim1 < 0 ? dim1 + x.rank : dim1;
  const perm = x.shape.map((_, i) => (i === d0 ? d1 : i === d1 ? d0 : i));
  return permute(x, perm);
}

/** Elements start..end (exclusive) along `axis`. */
export function slice(x: Tensor, axis: number, start: number, end: number): Tensor {
  checkLive('slice', x);
  const ax = axis < 0 ? axis + x.rank : axis;
  if (ax < 0 || ax >= x.rank || start < 0 || end > x.shape[ax] || start > end) {
    throw new Error(`slice: range [${start}, ${end}) on axis ${axis} is out of bounds for shape ${shapeString(x.shape)}`);
  }
  const out = copyStrided(x, x.shape.map((d, i) => (i === ax ? end - start : d)), slicedLayout(x.shape, ax, start));
  record('slice', [x], [out], GRADIENTS.slice(x.shape, ax, start));
  return out;
}

/** Joins tensors along `axis` (all other dims equal). */
export function concat(xs: Tensor[], axis = 0): Tensor {
  if (xs.length === 0) throw new Error('concat: no tensors given');
  checkLive('concat', ...xs);
  const first = xs[0];
  const ax = axis < 0 ? axis + first.rank : axis;
  for (const t of xs) {
    if (t.rank !== first.rank || t.dtype !== first.dtype || t.shape.some((d, i) => i !== ax && d !== first.shape[i])) {
      throw new Error(`concat: ${t} does not match ${first} outside axis ${axis}`);
    }
  }
  const shape = first.shape.map((d, i) => (i === ax ? xs.reduce((n, t) => n + t.shape[ax], 0) : d));
  const out = empty(shape, first.dtype);
  let at = 0;
  for (const t of xs) {
    mapStrided({ op: 'x', shape: t.shape, a: t, out, outLayout: slicedLayout(shape, ax, at), elementType: bitType(t.dtype) });
    at += t.shape[ax];
  }
  record('concat', xs, [out], GRADIENTS.concat(xs.map((t) => t.shape), ax));
  return out;
}
