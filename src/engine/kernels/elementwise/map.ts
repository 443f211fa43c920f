/**
 * Kernel `elementwise/map`: a strided map `out = OP(a, b)` over an iteration shape, with
 * broadcasting through per-operand layouts. Raw (no autograd): the elementwise, shape and
 * gradient code above builds on it. Dense maps of plain arithmetic run on vec4.
 */
import source from '../../../../shaders/elementwise/map.wgsl';
import { defineKernel } from '../../kernel.js';
import { runtime } from '../../runtime.js';
import { empty, type Shape, type Tensor, type DType, shapeSize } from '../../tensor.js';
import { broadcastLayout, broadcastShapes, dense, isDense, type Layout } from '../../layout.js';

const WORKGROUP = 256;

export const mapKernel = defineKernel({
  name: 'elementwise/map',
  source,
  uniforms: {
    n: 'u32', rank: 'u32', alpha: 'f32', beta: 'f32', outOffset: 'u32', aOffset: 'u32', bOffset: 'u32',
    shape: 'vec8u', outStrides: 'vec8u', aStrides: 'vec8u', bStrides: 'vec8u',
  },
  bindings: [
    { name: 'a', type: '${T}', access: 'read' },
    { name: 'b', type: '${T}', access: 'read', when: 'BINARY' },
    { name: 'out', type: '${T}', access: 'read_write' },
  ],
  workgroupSize: WORKGROUP,
  snippets: ['powf'],
});

export interface MapArgs {
  /** WGSL expression in the operand names (x and y unless `names` says otherwise), alpha, beta. */
  op: string;
  /** The names `op` uses for a and b (default ['x', 'y']; gradients use e.g. ['g', 'x']). */
  names?: readonly [string, string];
  shape: Shape;
  a: Tensor;
  aLayout?: Layout;
  b?: Tensor;
  bLayout?: Layout;
  out: Tensor;
  outLayout?: Layout;
  alpha?: number;
  beta?: number;
  /** 'u32' for bit copies of integer tensors. */
  elementType?: 'f32' | 'u32' | 'i32';
}

/**
 * Ops that mean the same per component on vec4: operand names, alpha, beta, numbers, + - * /
 * and parentheses (WGSL mixes vectors and scalars in these; functions and comparisons are left
 * out), with an operand in them (a fill such as `alpha` alone would be a scalar).
 */
function vec4Safe(op: string, names: readonly string[]): boolean {
  const words = op.match(/[A-Za-z_][A-Za-z0-9_]*/g) ?? [];
  const allowed = new Set([...names, 'alpha', 'beta']);
  return /^[\sA-Za-z0-9_()+\-*/.]*$/.test(op) && words.every((w) => allowed.has(w)) && words.some((w) => names.includes(w));
}

/**
 * The iteration shape with size-1 dims dropped and neighbouring dims merged wherever every
 * layout steps through them as one (stride[d − 1] = stride[d] · shape[d]), with the layouts to
 * match: the kernel then divides once per remaining dim, e.g. x[N, C, H, W] · s[N, C, 1, 1]
 * iterates [N·C, H·W] (the generic rank-4 walk costs ~40x a dense map on lavapipe).
 */
export function coalesceDims(shape: Shape, layouts: Layout[]): { shape: number[]; layouts: Layout[] } {
  const dims: number[] = [];
  const strides: number[][] = layouts.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const last = dims.length - 1;
    if (last >= 0 && layouts.every((l, i) => strides[i][last] === l.strides[d] * shape[d])) {
      dims[last] *= shape[d];
      layouts.forEach((l, i) => (strides[i][last] = l.strides[d]));
    } else {
      dims.push(shape[d]);
      layouts.forEach((l, i) => strides[i].push(l.strides[d]));
    }
  }
  if (dims.length === 0) return { shape: [1], layouts: layouts.map((l) => ({ offset: l.offset, strides: [1] })) };
  return { shape: dims, layouts: layouts.map((l, i) => ({ offset: l.offset, strides: strides[i] })) };
}

/** Whether `layout` over the rank-2 `shape` [rows, cols] reads one dense value per row. */
function perRow(layout: Layout, shape: Shape): boolean {
  return shape.length === 2 && layout.offset === 0 && layout.strides[0] === 1 && layout.strides[1] === 0;
}

/** Dispatches one strided elementwise map into `args.out`. */
export function mapStrided(args: MapArgs): void {
  for (const t of [args.a, args.b, args.out]) if (t?.dtype === 'f16') refuseHalf('elementwise op', t);
  const n = shapeSize(args.shape);
  if (n === 0) return;
  const binary = !!args.b;
  const given = [args.outLayout ?? dense(args.shape), args.aLayout ?? dense(args.shape), args.bLayout ?? dense(args.shape)];
  const merged = coalesceDims(args.shape, binary ? given : given.slice(0, 2));
  const shape = merged.shape;
  const [outLayout, aLayout] = merged.layouts;
  const bLayout = merged.layouts[2] ?? dense(shape);
  const [X, Y] = args.names ?? ['x', 'y'];
  const contiguous = isDense(aLayout, shape) && isDense(outLayout, shape) && (!binary || isDense(bLayout, shape));
  const rowA = binary && !contiguous && perRow(aLayout, shape) && isDense(bLayout, shape) && isDense(outLayout, shape);
  const rowB = binary && !contiguous && perRow(bLayout, shape) && isDense(aLayout, shape) && isDense(outLayout, shape);
  const vec4 = contiguous && n % 4 === 0 && (args.elementType ?? 'f32') === 'f32' && vec4Safe(args.op, binary ? [X, Y] : [X]);
  const items = vec4 ? n / 4 : n;
  mapKernel.dispatch({
    defines: {
      OP: args.op, X, Y, BINARY: binary, CONTIGUOUS: contiguous, ROWS: rowA || rowB, ROW_A: rowA,
      T: vec4 ? 'vec4f' : args.elementType ?? 'f32',
    },
    uniforms: {
      n: items, rank: shape.length, alpha: args.alpha ?? 0, beta: args.beta ?? 0,
      outOffset: outLayout.offset, aOffset: aLayout.offset, bOffset: bLayout.offset,
      shape, outStrides: outLayout.strides, aStrides: aLayout.strides, bStrides: bLayout.strides,
    },
    bindings: binary ? { a: args.a, b: args.b!, out: args.out } : { a: args.a, out: args.out },
    workgroups: runtime().grid(Math.ceil(items / WORKGROUP)),
    shape: () => `${args.op} n=${n}${contiguous ? '' : ` strided ${shape.join('x')}`}`,
  });
}

/** out = OP(x) elementwise into a new tensor. */
export function unaryMap(op: string, x: Tensor, alpha = 0, beta = 0, names: readonly [string, string] = ['x', 'y']): Tensor {
  const out = empty(x.shape);
  mapStrided({ op, names, shape: x.shape, a: x, out, alpha, beta });
  return out;
}

/** out = OP(a, b) with broadcasting into a new tensor. */
export function binaryMap(op: string, a: Tensor, b: Tensor, alpha = 0, beta = 0, names: readonly [string, string] = ['x', 'y']): Tensor {
  const shape = broadcastShapes(op, a.shape, b.shape);
  const out = empty(shape);
  mapStrided({ op, names, shape, a, aLayout: broadcastLayout(a.shape, shape), b, bLayout: broadcastLayout(b.shape, shape), out, alpha, beta });
  return out;
}

/** The WGSL element type used to move a tensor's bits (4-byte elements: not f16). */
export function bitType(dtype: DType): 'f32' | 'u32' {
  if (dtype === 'f16') refuseHalf('gather / shape op');
  return dtype === 'f32' ? 'f32' : 'u32';
}

/**
 * f16 tensors exist for half-precision inference only: the ops that take them are conv2dRaw,
 * maxPool2d and cast; the rest refuse them by name rather than read 2-byte elements as 4.
 */
function refuseHalf(op: string, t?: Tensor): never {
  throw new Error(`${op}: f16 tensor${t ? ` ${t}` : ''} given: f16 is for the inference trunk only (conv2dRaw, maxPool2d); cast(x, 'f32') first`);
}

/** A copy of `x` read through `layout` into a new dense tensor of `shape` (expand, permute, slice). */
export function copyStrided(x: Tensor, shape: Shape, layout?: Layout): Tensor {
  const out = empty(shape, x.dtype);
  mapStrided({ op: 'x', shape, a: x, aLayout: layout, out, elementType: bitType(x.dtype) });
  return out;
}

/** A tensor of `x`'s shape filled with `value`. */
export function fillLike(x: Tensor, value: number): Tensor {
  const out = empty(x.shape);
  mapStrided({ op: 'alpha', shape: x.shape, a: x, out, alpha: value, elementType: 'f32' });
  return out;
}
