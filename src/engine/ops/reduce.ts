/** Sum and mean over axes, and `sumTo` (the backward of broadcasting). */
import reduceSource from '../../../shaders/reduce.wgsl';
import { runtime } from '../runtime.js';
import { Uniforms } from '../uniforms.js';
import { empty, type Shape, type Tensor, shapeSize, shapeString } from '../tensor.js';
import { record } from '../tape.js';
import { contiguousStrides } from './strided.js';
import { expand } from './shape.js';
import { checkFloat } from './checks.js';
import { mulScalar } from './arithmetic.js';

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

/** Merges adjacent dims that are contiguous in memory (fewer index computations). */
function mergeDims(shape: number[], strides: number[]): [number[], number[]] {
  const s: number[] = [];
  const t: number[] = [];
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const last = s.length - 1;
    if (last >= 0 && t[last] === strides[d] * shape[d]) {
      s[last] *= shape[d];
      t[last] = strides[d];
    } else {
      s.push(shape[d]);
      t.push(strides[d]);
    }
  }
  return [s, t];
}

/** Raw reduction kernel: out[kept] = scale * sum over `axes` of x. */
function reduceKernel(x: Tensor, axes: number[], scale: number): Tensor {
  const strides = contiguousStrides(x.shape);
  const keptDims = x.shape.map((_, d) => d).filter((d) => !axes.includes(d));
  const [keptShape, keptStrides] = mergeDims(keptDims.map((d) => x.shape[d]), keptDims.map((d) => strides[d]));
  const [redShape, redStrides] = mergeDims(axes.map((d) => x.shape[d]), axes.map((d) => strides[d]));
  const nOut = shapeSize(keptShape);
  const nRed = shapeSize(redShape);
  const out = empty(keptDims.map((d) => x.shape[d]));
  const rt = runtime();
  // A workgroup per output pays off only for long reductions into few outputs (batchnorm-like
  // shapes); many outputs (summing a batch of weight gradients) want a thread each, which
  // also makes neighbouring threads read neighbouring addresses.
  const wgPerOutput = nRed > 32 && nOut < 4096;
  const u = new Uniforms()
    .u32(nOut).u32(nRed).u32(keptShape.length).u32(redShape.length)
    .f32(scale).u32(0).u32(0).u32(0)
    .vec8(keptShape).vec8(keptStrides).vec8(redShape).vec8(redStrides);
  rt.dispatch(
    { name: 'reduce', source: reduceSource, defines: { WG_PER_OUTPUT: wgPerOutput } },
    { uniforms: u, buffers: [x.buffer, out.buffer], workgroups: rt.grid(wgPerOutput ? nOut : Math.ceil(nOut / 256)) },
  );
  return out;
}

function reduceOp(op: string, x: Tensor, axes: number | readonly number[] | undefined, keepDims: boolean, mean: boolean): Tensor {
  checkFloat(op, x);
  const ax = normalizeAxes(op, x.shape, axes);
  const count = ax.reduce((n, d) => n * x.shape[d], 1);
  const scale = mean ? 1 / Math.max(count, 1) : 1;
  const raw = reduceKernel(x, ax, scale);
  const keptShape = x.shape.map((d, i) => (ax.includes(i) ? 1 : d));
  const out = keepDims ? raw.view(keptShape) : raw;
  if (keepDims) raw.dispose();
  const inShape = x.shape;
  record(op, [x], [out], ([g]) => {
    const g1 = g!.view(keptShape);
    const e = expand(g1, inShape);
    g1.dispose();
    if (scale === 1) return [e];
    const scaled = mulScalar(e, scale);
    e.dispose();
    return [scaled];
  });
  return out;
}

/** Sum over `axes` (all by default). */
export function sum(x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
  return reduceOp('sum', x, axes, keepDims, false);
}

/** Mean over `axes` (all by default). */
export function mean(x: Tensor, axes?: number | readonly number[], keepDims = false): Tensor {
  return reduceOp('mean', x, axes, keepDims, true);
}

/** Sums a broadcast result back to `shape` (the gradient of broadcasting). */
export function sumTo(x: Tensor, shape: Shape): Tensor {
  if (x.shape.join() === shape.join()) return x.view(shape);
  const lead = x.rank - shape.length;
  const axes = x.shape.map((_, d) => d).filter((d) => d < lead || (shape[d - lead] === 1 && x.shape[d] !== 1));
  const raw = reduceKernel(x, axes, 1);
  const out = raw.view(shape);
  raw.dispose();
  return out;
}
