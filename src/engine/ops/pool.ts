/**
 * Max pooling (any kernel, stride, padding, dilation; -inf padding like PyTorch), average
 * pooling (padding counted or not in the divisor) and global average pooling over NCHW images,
 * forward and backward.
 *
 * - `pooling/max_pool` / `pooling/max_pool_backward` (src/engine/kernels/pooling/): one thread
 *   per output forward, saving the argmax when a gradient will be needed; the backward gathers
 *   by stride-sized blocks of inputs, without atomics.
 * - `pooling/avg_pool` / `pooling/avg_pool_backward`: one thread per output forward, one per
 *   input backward (gathering the windows that hold it).
 * - global average pooling runs on the GeM row kernels (`pooling/gem` / `pooling/gem_backward`, AVG).
 */
import { empty, type Tensor, shapeString } from '../tensor.js';
import { record, isGradEnabled } from '../tape.js';
import { checkDtype, checkFloat, checkRank } from '../checks.js';
import { rowPool } from '../kernels/pooling/gem.js';
import { rowPoolBackward } from '../kernels/pooling/gem_backward.js';
import { maxPoolForward, type PoolGeometry } from '../kernels/pooling/max_pool.js';
import { maxPoolBackward } from '../kernels/pooling/max_pool_backward.js';
import { avgPoolForward, type AvgPoolGeometry } from '../kernels/pooling/avg_pool.js';
import { avgPoolBackward } from '../kernels/pooling/avg_pool_backward.js';

export interface MaxPoolOptions {
  /** Window size, one number or [kh, kw]. */
  kernel: number | readonly [number, number];
  /** Step (default: the kernel size, like PyTorch). */
  stride?: number | readonly [number, number];
  /** Implicit -inf padding on each side (default 0; at most half the kernel). */
  padding?: number | readonly [number, number];
  /** Spacing of the window taps (default 1). */
  dilation?: number | readonly [number, number];
  /** Output size rounded up (PyTorch's ceil_mode; default false): a last window may overhang. */
  ceilMode?: boolean;
}

export interface AvgPoolOptions {
  /** Window size, one number or [kh, kw]. */
  kernel: number | readonly [number, number];
  /** Step (default: the kernel size, like PyTorch). */
  stride?: number | readonly [number, number];
  /** Implicit zero padding on each side (default 0; at most half the kernel). */
  padding?: number | readonly [number, number];
  /**
   * Padded positions count in the divisor (PyTorch's count_include_pad, default true); the
   * NASNets use false: a border window averages only the values inside the image.
   */
  countIncludePad?: boolean;
  /** Output size rounded up (PyTorch's ceil_mode; default false). */
  ceilMode?: boolean;
}

function pair(op: string, what: string, v: number | readonly [number, number], min: number): [number, number] {
  const p: [number, number] = typeof v === 'number' ? [v, v] : [v[0], v[1]];
  if (!p.every((d) => Number.isInteger(d) && d >= min)) {
    throw new Error(`${op}: ${what} must be integers >= ${min}, got ${JSON.stringify(v)}`);
  }
  return p;
}

/**
 * Output size of a pooling window sweep, as PyTorch's pooling_output_shape: floor mode by
 * default; in ceil mode rounded up, but the last window must start inside the image or its
 * left padding.
 */
function outSize(n: number, k: number, s: number, p: number, d: number, ceil = false): number {
  const span = n + 2 * p - d * (k - 1) - 1;
  if (!ceil) return Math.floor(span / s) + 1;
  const o = Math.ceil(span / s) + 1;
  return (o - 1) * s >= n + p ? o - 1 : o;
}

/** The window geometry of a pooling op: kernel, stride, padding (at most half the kernel). */
function windowOf(op: string, o: { kernel: number | readonly [number, number]; stride?: number | readonly [number, number]; padding?: number | readonly [number, number] }) {
  const [kh, kw] = pair(op, 'kernel', o.kernel, 1);
  const [sh, sw] = pair(op, 'stride', o.stride ?? o.kernel, 1);
  const [ph, pw] = pair(op, 'padding', o.padding ?? 0, 0);
  if (ph > Math.floor(kh / 2) || pw > Math.floor(kw / 2)) {
    throw new Error(`${op}: padding [${ph}, ${pw}] must be at most half the kernel [${kh}, ${kw}]`);
  }
  return { kh, kw, sh, sw, ph, pw };
}

/** 2-D max pooling of x [N, C, H, W]; `{ kernel: 3, stride: 2, padding: 1 }` is ResNet's stem. */
export function maxPool2d(x: Tensor, options: MaxPoolOptions): Tensor {
  const op = 'maxPool2d';
  checkDtype(op, x, ['f32', 'f16']);
  checkRank(op, x, 4);
  const { kh, kw, sh, sw, ph, pw } = windowOf(op, options);
  const [dh, dw] = pair(op, 'dilation', options.dilation ?? 1, 1);
  const [n, c, h, w] = x.shape;
  const oh = outSize(h, kh, sh, ph, dh, options.ceilMode);
  const ow = outSize(w, kw, sw, pw, dw, options.ceilMode);
  if (oh < 1 || ow < 1) {
    throw new Error(`${op}: input ${shapeString(x.shape)} is too small for kernel [${kh}, ${kw}] with padding [${ph}, ${pw}] and dilation [${dh}, ${dw}]`);
  }
  if (h * w >= 1 << 22 || oh * ow >= 1 << 22) {
    throw new Error(`${op}: planes of ${h}x${w} are above the supported 2^22 values per plane`);
  }
  const out = empty([n, c, oh, ow], x.dtype);
  const needIndex = isGradEnabled() && x.requiresGrad;
  const index = needIndex ? empty([n, c, oh, ow], 'i32') : null;
  const geo: PoolGeometry = { planes: n * c, h, w, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw };
  maxPoolForward(x, out, index, geo);
  if (index) {
    const inShape = x.shape;
    record(op, [x], [out], ([g], _needs, [idx]) => [maxPoolBackward(g!, idx, inShape, geo)], [index]);
    index.dispose();
  }
  return out;
}

/**
 * 2-D average pooling of x [N, C, H, W] (PyTorch's AvgPool2d): `{ kernel: 3, stride: 2,
 * padding: 1, countIncludePad: false }` is the NASNets' reduction pool. Backward gives each
 * input the sum of dy / divisor over the windows that hold it.
 */
export function avgPool2d(x: Tensor, options: AvgPoolOptions): Tensor {
  const op = 'avgPool2d';
  checkFloat(op, x);
  checkRank(op, x, 4);
  const { kh, kw, sh, sw, ph, pw } = windowOf(op, options);
  const [n, c, h, w] = x.shape;
  const oh = outSize(h, kh, sh, ph, 1, options.ceilMode);
  const ow = outSize(w, kw, sw, pw, 1, options.ceilMode);
  if (oh < 1 || ow < 1) {
    throw new Error(`${op}: input ${shapeString(x.shape)} is too small for kernel [${kh}, ${kw}] with padding [${ph}, ${pw}]`);
  }
  if (h * w >= 1 << 22 || oh * ow >= 1 << 22) {
    throw new Error(`${op}: planes of ${h}x${w} are above the supported 2^22 values per plane`);
  }
  const geo: AvgPoolGeometry = { planes: n * c, h, w, oh, ow, kh, kw, sh, sw, ph, pw, countPad: options.countIncludePad ?? true };
  const out = empty([n, c, oh, ow]);
  avgPoolForward(x, out, geo);
  const inShape = x.shape;
  record(op, [x], [out], ([g]) => [avgPoolBackward(g!, inShape, geo)]);
  return out;
}

/** Global average pooling: x [N, C, H, W] -> [N, C]. */
export function globalAvgPool(x: Tensor): Tensor {
  const op = 'globalAvgPool';
  checkFloat(op, x);
  checkRank(op, x, 4);
  const [n, c, h, w] = x.shape;
  if (h * w === 0) throw new Error(`${op}: empty spatial size in ${shapeString(x.shape)}`);
  const out = rowPool(x, n * c, h * w, { avg: true });
  const pooled = out.view([n, c]);
  out.dispose();
  const inShape = x.shape;
  record(op, [x], [pooled], ([g]) => [rowPoolBackward(g!, null, n * c, h * w, { avg: true }, inShape).dx], []);
  return pooled;
}
