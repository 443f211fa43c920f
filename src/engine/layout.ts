/** Shapes, strides and broadcasting (NumPy/PyTorch rules): pure index arithmetic, no GPU. */
import { type Shape, shapeString } from './tensor.js';

/** Where an operand lives: offset and strides in iteration coordinates. */
export interface Layout {
  offset: number;
  strides: readonly number[];
}

/** Row-major strides of a dense shape. */
export function contiguousStrides(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = s;
    s *= shape[d];
  }
  return strides;
}

/** The dense layout of a tensor of `shape`. */
export function dense(shape: Shape): Layout {
  return { offset: 0, strides: contiguousStrides(shape) };
}

/** Whether `layout` addresses a dense tensor of `shape` (size-1 dims may have any stride). */
export function isDense(layout: Layout, shape: Shape): boolean {
  if (layout.offset !== 0) return false;
  const c = contiguousStrides(shape);
  return shape.every((d, i) => d === 1 || layout.strides[i] === c[i]);
}

/** Layout reading a tensor of `shape` broadcast to `target` (stride 0 on broadcast dims). */
export function broadcastLayout(shape: Shape, target: Shape): Layout {
  const strides = contiguousStrides(shape);
  const lead = target.length - shape.length;
  return { offset: 0, strides: target.map((_, d) => (d < lead || shape[d - lead] === 1 ? 0 : strides[d - lead])) };
}

/** The broadcast shape of two shapes, or a clear error naming the op and both shapes. */
export function broadcastShapes(op: string, a: Shape, b: Shape): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(`${op}: shapes ${shapeString(a)} and ${shapeString(b)} cannot be broadcast together (dimension ${i}: ${da} vs ${db})`);
    }
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** The axes along which a tensor of `from` is summed to reduce it to `to` (the gradient of broadcasting). */
export function broadcastAxes(from: Shape, to: Shape): number[] {
  const lead = from.length - to.length;
  return from.map((_, d) => d).filter((d) => d < lead || (to[d - lead] === 1 && from[d] !== 1));
}

/** Normalizes axes (negative allowed) or names the bad one. */
export function normalizeAxes(op: string, shape: Shape, axes?: number | readonly number[]): number[] {
  const list = axes === undefined ? shape.map((_, i) => i) : typeof axes === 'number' ? [axes] : [...axes];
  const out = list.map((a) => {
    const d = a < 0 ? a + shape.length : a;
    if (!Number.isInteger(d) || d < 0 || d >= shape.length) throw new Error(`${op}: axis ${a} is out of range for shape ${shapeString(shape)}`);
    return d;
  });
  return [...new Set(out)].sort((x, y) => x - y);
}

/** Layout reading a tensor of `shape` with its dims reordered: iteration dim i is dim perm[i]. */
export function permutedLayout(shape: Shape, perm: readonly number[]): Layout {
  const strides = contiguousStrides(shape);
  return { offset: 0, strides: perm.map((p) => strides[p]) };
}

/** Layout of the window starting at `start` along `axis` inside a dense tensor of `shape`. */
export function slicedLayout(shape: Shape, axis: number, start: number): Layout {
  const strides = contiguousStrides(shape);
  return { offset: start * strides[axis], strides };
}
