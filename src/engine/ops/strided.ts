/**
 * The launcher of `elementwise.wgsl`: a strided map over an iteration shape, used by the
 * arithmetic, unary and shape ops. Also the broadcasting rules (NumPy/PyTorch).
 */
import elementwiseSource from '../../../shaders/elementwise.wgsl';
import { runtime } from '../runtime.js';
import { Uniforms } from '../uniforms.js';
import { type Shape, type Tensor, shapeSize, shapeString, type DType } from '../tensor.js';

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

function isDense(layout: Layout, shape: Shape): boolean {
  if (layout.offset !== 0) return false;
  const c = contiguousStrides(shape);
  return shape.every((d, i) => d === 1 || layout.strides[i] === c[i]);
}

export interface MapArgs {
  /** WGSL expression in x, y (and alpha, beta). */
  op: string;
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
 * Ops that mean the same per component on vec4: x, y, alpha, beta, numbers, + - * / and
 * parentheses (WGSL mixes vectors and scalars in these; functions and comparisons are left out),
 * with x or y in them (a fill such as `alpha` alone would be a scalar).
 */
const VEC4_SAFE = /^(?:[\s()+\-*/.0-9]|\bx\b|\by\b|\balpha\b|\bbeta\b)*$/;

/** Dispatches one strided elementwise map. */
export function mapStrided(args: MapArgs): void {
  const rt = runtime();
  const n = shapeSize(args.shape);
  if (n === 0) return;
  const shape = args.shape;
  const aLayout = args.aLayout ?? dense(shape);
  const bLayout = args.bLayout ?? dense(shape);
  const outLayout = args.outLayout ?? dense(shape);
  const binary = !!args.b;
  const contiguous = isDense(aLayout, shape) && isDense(outLayout, shape) && (!binary || isDense(bLayout, shape));
  // dense maps of plain arithmetic run on vec4 (a vec4 load costs ~2.7 scalar ones on lavapipe)
  const vec4 = contiguous && n % 4 === 0 && (args.elementType ?? 'f32') === 'f32' && VEC4_SAFE.test(args.op) && /\b[xy]\b/.test(args.op);
  const items = vec4 ? n / 4 : n;
  const u = new Uniforms()
    .u32(items).u32(shape.length).f32(args.alpha ?? 0).f32(args.beta ?? 0)
    .u32(outLayout.offset).u32(aLayout.offset).u32(bLayout.offset).u32(0)
    .vec8(shape).vec8(outLayout.strides).vec8(aLayout.strides).vec8(bLayout.strides);
  const buffers = binary ? [args.a.buffer, args.b!.buffer, args.out.buffer] : [args.a.buffer, args.out.buffer];
  rt.dispatch(
    {
      name: 'elementwise',
      source: elementwiseSource,
      defines: { OP: args.op, BINARY: binary, CONTIGUOUS: contiguous, T: vec4 ? 'vec4f' : args.elementType ?? 'f32' },
    },
    { uniforms: u, buffers, workgroups: rt.grid(Math.ceil(items / 256)), shape: () => `${args.op} n=${n}${contiguous ? '' : ' strided'}` },
  );
}

/** The WGSL element type used to move a tensor's bits. */
export function bitType(dtype: DType): 'f32' | 'u32' {
  return dtype === 'f32' ? 'f32' : 'u32';
}
