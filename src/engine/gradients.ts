/**
 * The derivative rules of the elementwise, reduce and shape ops, in one table (as tinygrad's
 * gradient.py). Each entry takes what the forward knew (shapes, axes, parameters) and returns
 * the backward rule the op records; rules call raw kernels only, so op files don't import
 * each other. The other ops (matmul, conv2d, norms, pooling, losses) keep their rule next
 * to their kernels.
 */
import { empty, type Shape, type Tensor } from './tensor.js';
import type { BackwardRule } from './tape.js';
import { runtime } from './runtime.js';
import { binaryMap, unaryMap, copyStrided, mapStrided } from './kernels/elementwise/map.js';
import { sumTo } from './kernels/reduce/sum.js';
import { broadcastLayout, permutedLayout, slicedLayout } from './layout.js';

/** What a unary table entry's gradient reads besides g: its input, its output, or nothing. */
export type UnarySaves = 'x' | 'y' | 'none';

interface UnaryDerivative {
  dx: string;
}

/** Sums `g` back to `shape` and disposes `g`. */
function reduced(g: Tensor, shape: Shape): Tensor {
  const r = sumTo(g, shape);
  g.dispose();
  return r;
}

export const GRADIENTS = {
  /** A unary table entry: dx is its WGSL in g and x or y (never both: two operands per map). */
  unary(op: UnaryDerivative, inShape: Shape, alpha: number, beta: number): { backward: BackwardRule; saves: UnarySaves } {
    const usesX = /\bx\b/.test(op.dx);
    const usesY = /\by\b/.test(op.dx);
    if (usesX && usesY) throw new Error(`unary gradient '${op.dx}' reads both x and y; a map has two operands (g and one of them)`);
    if (op.dx === 'g') return { saves: 'none', backward: ([g]) => [g!.view(inShape)] };
    if (!usesX && !usesY) return { saves: 'none', backward: ([g]) => [unaryMap(op.dx, g!, alpha, beta, ['g', 'x'])] };
    const saved = usesX ? 'x' : 'y';
    return { saves: saved, backward: ([g], _needs, [s]) => [binaryMap(op.dx, g!, s, alpha, beta, ['g', saved])] };
  },

  add: (aShape: Shape, bShape: Shape): BackwardRule => ([g], needs) => [
    needs[0] ? sumTo(g!, aShape) : null,
    needs[1] ? sumTo(g!, bShape) : null,
  ],

  sub: (aShape: Shape, bShape: Shape): BackwardRule => ([g], needs) => [
    needs[0] ? sumTo(g!, aShape) : null,
    needs[1] ? reduced(unaryMap('-x', g!), bShape) : null,
  ],

  mul: (aShape: Shape, bShape: Shape): BackwardRule => ([g], needs, [a, b]) => [
    needs[0] ? reduced(binaryMap('x * y', g!, b), aShape) : null,
    needs[1] ? reduced(binaryMap('x * y', g!, a), bShape) : null,
  ],

  div: (aShape: Shape, bShape: Shape): BackwardRule => ([g], needs, [a, b]) => {
    const ga = needs[0] ? reduced(binaryMap('x / y', g!, b), aShape) : null;
    if (!needs[1]) return [ga, null];
    const q = binaryMap('x / y', a, b); // = out
    const gq = binaryMap('-x * y', g!, q);
    q.dispose();
    return [ga, reduced(binaryMap('x / y', gq, b), bShape)];
  },

  /** sum/mean over axes: the gradient broadcasts back, times the mean's 1/count. */
  sum: (inShape: Shape, keptShape: Shape, scale: number): BackwardRule => ([g]) => {
    const gk = g!.view(keptShape);
    const out = empty(inShape);
    mapStrided({ op: scale === 1 ? 'x' : 'x * alpha', alpha: scale, shape: inShape, a: gk, aLayout: broadcastLayout(keptShape, inShape), out });
    gk.dispose();
    return [out];
  },

  reshape: (inShape: Shape): BackwardRule => ([g]) => [g!.view(inShape)],

  expand: (inShape: Shape): BackwardRule => ([g]) => [sumTo(g!, inShape)],

  permute: (perm: readonly number[]): BackwardRule => ([g]) => {
    const inverse = perm.map((_, i) => perm.indexOf(i));
    return [copyStrided(g!, inverse.map((p) => g!.shape[p]), permutedLayout(g!.shape, inverse))];
  },

  /** slice: the gradient lands in its window of a zero tensor of the input's shape. */
  slice: (inShape: Shape, axis: number, start: number): BackwardRule => ([g]) => {
    const gx = empty(inShape);
    runtime().clear(gx.buffer, gx.size * 4);
    mapStrided({ op: 'x', shape: g!.shape, a: g!, out: gx, outLayout: slicedLayout(inShape, axis, start) });
    return [gx];
  },

  /** concat: each input gets its slice of the gradient. */
  concat: (shapes: Shape[], axis: number): BackwardRule => ([g], needs) => {
    let at = 0;
    return shapes.map((shape, i) => {
      const start = at;
      at += shape[axis];
      return needs[i] ? copyStrided(g!, shape, slicedLayout(g!.shape, axis, start)) : null;
    });
  },
};
