/** Shape ops: reshape (a view), expand, permute/transpose, slice, concat. */
import { empty, type Shape, type Tensor, shapeSize, shapeString } from '../tensor.js';
import { record } from '../tape.js';
import { runtime } from '../runtime.js';
import { mapStrided, broadcastLayout, contiguousStrides, bitType } from './strided.js';
import { sumTo } from './reduce.js';
import { checkLive } from './checks.js';

/** Same values, another shape (no copy). One dimension may be -1. */
export function reshape(x: Tensor, shape: Shape): Tensor {
  checkLive('reshape', x);
  const known = shape.filter((d) => d !== -1);
  const inferred = shape.length - known.length;
  if (inferred > 1) throw new Error(`reshape: at most one -1 in ${shapeString(shape)}`);
  const full = inferred ? shape.map((d) => (d === -1 ? x.size / Math.max(shapeSize(known), 1) : d)) : [...shape];
  const out = x.view(full);
  const inShape = x.shape;
  record('reshape', [x], [out], ([g]) => [g!.view(inShape)]);
  return out;
}

/** Broadcasts x to `shape` (a copy). */
export function expand(x: Tensor, shape: Shape): Tensor {
  checkLive('expand', x);
  const out = empty(shape, x.dtype);
  mapStrided({ op: 'x', shape, a: x, aLayout: broadcastLayout(x.shape, shape), out, elementType: bitType(x.dtype) });
  const inShape = x.shape;
  record('expand', [x], [out], ([g]) => [sumTo(g!, inShape)]);
  return out;
}

/** Reorders dimensions: out.shape[i] = x.shape[perm[i]]. */
export function permute(x: Tensor, perm: readonly number[]): Tensor {
  checkLive('permute', x);
  if (perm.length !== x.rank || [...perm].sort().some((p, i) => p !== i)) {
    throw new Error(`permute: ${JSON.stringify(perm)} is not a permutation of the ${x.rank} dims of ${shapeString(x.shape)}`);
  }
  const strides = contiguousStrides(x.shape);
  const shape = perm.map((p) => x.shape[p]);
  const out = empty(shape, x.dtype);
  mapStrided({ op: 'x', shape, a: x, aLayout: { offset: 0, strides: perm.map((p) => strides[p]) }, out, elementType: bitType(x.dtype) });
  const inverse = perm.map((_, i) => perm.indexOf(i));
  record('permute', [x], [out], ([g]) => [permute(g!, inverse)]);
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
  const strides = contiguousStrides(x.shape);
  const shape = x.shape.map((d, i) => (i === ax ? end - start : d));
  const out = empty(shape, x.dtype);
  mapStrided({ op: 'x', shape, a: x, aLayout: { offset: start * strides[ax], strides }, out, elementType: bitType(x.dtype) });
  const inShape = x.shape;
  record('slice', [x], [out], ([g]) => {
    const gx = empty(inShape);
    runtime().clear(gx.buffer, gx.size * 4);
    mapStrided({ op: 'x', shape, a: g!, out: gx, outLayout: { offset: start * contiguousStrides(inShape)[ax], strides: contiguousStrides(inShape) } });
    return [gx];
  });
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
  const outStrides = contiguousStrides(shape);
  let at = 0;
  const starts: number[] = [];
  for (const t of xs) {
    starts.push(at);
    mapStrided({ op: 'x', shape: t.shape, a: t, out, outLayout: { offset: at * outStrides[ax], strides: outStrides }, elementType: bitType(t.dtype) });
    at += t.shape[ax];
  }
  record('concat', xs, [out], ([g], needs) =>
    xs.map((t, i) => (needs[i] ? slice(g!, ax, starts[i], starts[i] + t.shape[ax]) : null)),
  );
  return out;
}
