/**
 * conv2d as GEMMs (NCHW; weights in PyTorch's [Cout, Cin, kh, kw] layout, used as-is as a
 * [Cout, K] matrix with K = Cin*kh*kw):
 *   forward   Y[n] = W · cols[n]             cols = im2col(x), [K, OH*OW] per image
 *   input     dcols[n] = Wᵀ · dY[n];  dx = col2im(dcols)   (gather form, no atomics)
 *   weight    dW = Σ_n dY[n] · cols[n]ᵀ
 * 1x1 stride-1 unpadded convolutions skip im2col (x[n] is already [Cin, H*W]). Batches are
 * processed in chunks so that the patch matrix stays below a fixed budget.
 */
import im2colSource from '../../../shaders/im2col.wgsl';
import { runtime } from '../runtime.js';
import { Uniforms } from '../uniforms.js';
import { empty, type Tensor, shapeString } from '../tensor.js';
import { record } from '../tape.js';
import { matmulRaw } from './matmul.js';
import { sum } from './reduce.js';
import { add } from './arithmetic.js';
import { concat, slice } from './shape.js';
import { checkFloat } from './checks.js';

export interface Conv2dOptions {
  stride?: number | [number, number];
  padding?: number | [number, number];
  dilation?: number | [number, number];
  groups?: number;
}

interface Geometry {
  N: number; C: number; H: number; W: number; Cout: number; KH: number; KW: number;
  OH: number; OW: number; sy: number; sx: number; py: number; px: number; dy: number; dx: number;
}

const pair = (v: number | [number, number] | undefined, d: number): [number, number] => (v === undefined ? [d, d] : typeof v === 'number' ? [v, v] : v);

/** Shapes and output size, or a clear error naming the shapes. */
export function convGeometry(x: Tensor, weight: Tensor, opts: Conv2dOptions): Geometry {
  if (x.rank !== 4 || weight.rank !== 4) throw new Error(`conv2d: input must be [N, C, H, W] and weight [Cout, Cin, kh, kw], got ${shapeString(x.shape)} and ${shapeString(weight.shape)}`);
  if ((opts.groups ?? 1) !== 1) throw new Error('conv2d: groups > 1 is not supported');
  const [N, C, H, W] = x.shape;
  const [Cout, Cin, KH, KW] = weight.shape;
  if (Cin !== C) throw new Error(`conv2d: input ${shapeString(x.shape)} has ${C} channels but weight ${shapeString(weight.shape)} expects ${Cin}`);
  const [sy, sx] = pair(opts.stride, 1);
  const [py, px] = pair(opts.padding, 0);
  const [dy, dx] = pair(opts.dilation, 1);
  const OH = Math.floor((H + 2 * py - dy * (KH - 1) - 1) / sy) + 1;
  const OW = Math.floor((W + 2 * px - dx * (KW - 1) - 1) / sx) + 1;
  if (OH < 1 || OW < 1) throw new Error(`conv2d: input ${shapeString(x.shape)} is too small for kernel ${KH}x${KW} (stride ${sy}, padding ${py}, dilation ${dy})`);
  return { N, C, H, W, Cout, KH, KW, OH, OW, sy, sx, py, px, dy, dx };
}

function isPointwise(g: Geometry): boolean {
  return g.KH === 1 && g.KW === 1 && g.sy === 1 && g.sx === 1 && g.py === 0 && g.px === 0;
}

function params(g: Geometry, n: number, col2im: boolean): Uniforms {
  const total = col2im ? n * g.C * g.H * g.W : n * g.C * g.KH * g.KW * g.OH * g.OW;
  return new Uniforms().u32(g.C).u32(g.H).u32(g.W).u32(g.OH).u32(g.OW).u32(g.KH).u32(g.KW).u32(g.sy)
    .u32(g.sx).u32(g.py).u32(g.px).u32(g.dy).u32(g.dx).u32(total).u32(0).u32(0);
}

/** The patch matrix [n, K, OH*OW] of images [start, start + n). */
function im2col(x: Tensor, g: Geometry): Tensor {
  const n = x.shape[0];
  const cols = empty([n, g.C * g.KH * g.KW, g.OH * g.OW]);
  const rt = runtime();
  rt.dispatch({ name: 'im2col', source: im2colSource, defines: { COL2IM: false } },
    { uniforms: params(g, n, false), buffers: [x.buffer, cols.buffer], workgroups: rt.grid(Math.ceil(cols.size / 256)) });
  return cols;
}

function col2im(cols: Tensor, g: Geometry, n: number): Tensor {
  const dx = empty([n, g.C, g.H, g.W]);
  const rt = runtime();
  rt.dispatch({ name: 'im2col', source: im2colSource, defines: { COL2IM: true } },
    { uniforms: params(g, n, true), buffers: [cols.buffer, dx.buffer], workgroups: rt.grid(Math.ceil(dx.size / 256)) });
  return dx;
}

/** Images per chunk so that the patch matrix stays under ~64 MiB. */
function chunkSize(g: Geometry): number {
  const perImage = g.C * g.KH * g.KW * g.OH * g.OW * 4;
  return Math.max(1, Math.min(g.N, Math.floor((64 * 2 ** 20) / Math.max(perImage, 1))));
}

/** Runs `f` on batch chunks [start, end) and concatenates the results along axis 0. */
function byChunks(g: Geometry, f: (start: number, end: number) => Tensor): Tensor {
  const step = chunkSize(g);
  if (step >= g.N) return f(0, g.N);
  const parts: Tensor[] = [];
  for (let s = 0; s < g.N; s += step) parts.push(f(s, Math.min(g.N, s + step)));
  const out = concat(parts, 0);
  parts.forEach((p) => p.dispose());
  return out;
}

function patches(x: Tensor, g: Geometry, start: number, end: number): Tensor {
  const xs = start === 0 && end === g.N ? x : slice(x, 0, start, end);
  const cols = isPointwise(g) ? xs.view([end - start, g.C, g.H * g.W]) : im2col(xs, g);
  if (xs !== x) xs.dispose();
  return cols;
}

/** Forward only (no autograd). */
export function conv2dForwardRaw(x: Tensor, weight: Tensor, opts: Conv2dOptions = {}): Tensor {
  const g = convGeometry(x, weight, opts);
  const w2 = weight.view([g.Cout, g.C * g.KH * g.KW]);
  const y = byChunks(g, (s, e) => {
    const cols = patches(x, g, s, e);
    const out = matmulRaw(w2, cols);
    cols.dispose();
    return out;
  });
  w2.dispose();
  const out = y.view([g.N, g.Cout, g.OH, g.OW]);
  y.dispose();
  return out;
}

/** Gradient with respect to the input. */
export function conv2dInputGrad(dy: Tensor, weight: Tensor, g: Geometry): Tensor {
  const w2 = weight.view([g.Cout, g.C * g.KH * g.KW]);
  const dx = byChunks(g, (s, e) => {
    const dys = s === 0 && e === g.N ? dy.view([g.N, g.Cout, g.OH * g.OW]) : slice(dy, 0, s, e).view([e - s, g.Cout, g.OH * g.OW]);
    const dcols = matmulRaw(w2, dys, true, false);
    dys.dispose();
    if (isPointwise(g)) {
      const v = dcols.view([e - s, g.C, g.H, g.W]);
      dcols.dispose();
      return v;
    }
    const out = col2im(dcols, g, e - s);
    dcols.dispose();
    return out;
  });
  w2.dispose();
  return dx;
}

/** Gradient with respect to the weight. */
export function conv2dWeightGrad(dy: Tensor, x: Tensor, g: Geometry): Tensor {
  let acc: Tensor | null = null;
  const step = chunkSize(g);
  for (let s = 0; s < g.N; s += step) {
    const e = Math.min(g.N, s + step);
    const cols = patches(x, g, s, e);
    const dys = s === 0 && e === g.N ? dy.view([g.N, g.Cout, g.OH * g.OW]) : slice(dy, 0, s, e).view([e - s, g.Cout, g.OH * g.OW]);
    const perImage = matmulRaw(dys, cols, false, true); // [n, Cout, K]
    cols.dispose();
    dys.dispose();
    const part = sum(perImage, 0);
    perImage.dispose();
    if (acc) {
      const next: Tensor = add(acc, part);
      acc.dispose();
      part.dispose();
      acc = next;
    } else {
      acc = part;
    }
  }
  const out = acc!.view([g.Cout, g.C, g.KH, g.KW]);
  acc!.dispose();
  return out;
}

/**
 * 2-D convolution (cross-correlation, like PyTorch) with autograd: x [N, Cin, H, W],
 * weight [Cout, Cin, kh, kw], optional bias [Cout].
 */
export function conv2dGemm(x: Tensor, weight: Tensor, bias?: Tensor | null, opts: Conv2dOptions = {}): Tensor {
  checkFloat('conv2d', x, weight);
  const g = convGeometry(x, weight, opts);
  const raw = conv2dForwardRaw(x, weight, opts);
  let out = raw;
  if (bias) {
    if (bias.rank !== 1 || bias.shape[0] !== g.Cout) throw new Error(`conv2d: bias ${shapeString(bias.shape)} does not match ${g.Cout} output channels`);
    const b4 = bias.view([1, g.Cout, 1, 1]);
    out = add(raw, b4);
    b4.dispose();
    raw.dispose();
  }
  const inputs = bias ? [x, weight, bias] : [x, weight];
  record('conv2d', inputs, [out], ([dy], needs) => [
    needs[0] ? conv2dInputGrad(dy!, weight, g) : null,
    needs[1] ? conv2dWeightGrad(dy!, x, g) : null,
    ...(bias ? [needs[2] ? sum(dy!, [0, 2, 3]) : null] : []),
  ], [x, weight]);
  return out;
}
