/**
 * Max pooling (any kernel, stride, padding, dilation; -inf padding like PyTorch) and global
 * average pooling over NCHW images, forward and backward.
 *
 * - `pooling/max_pool` / `pooling/max_pool_backward` (src/engine/kernels/pooling/): one thread
 *   per output forward, saving the argmax when a gradient will be needed; the backward gathers
 *   by stride-sized blocks of inputs, without atomics.
 * - global average pooling runs on the GeM row kernels (`pooling/gem` / `pooling/gem_backward`, AVG).
 */
import { empty, type Tensor, shapeString } from '../tensor.js';
import { record, isGradEnabled } from '../tape.js';
import { checkDtype, checkFloat, checkRank } from '../checks.js';
import { rowPool } from '../kernels/pooling/gem.js';
import { rowPoolBackward } from '../kernels/pooling/gem_backward.js';
import { maxPoolForward, type PoolGeometry } from '../kernels/pooling/max_pool.js';
import { maxPoolBackward } from '../kernels/pooling/max_pool_backward.js';

export interface MaxPoolOptions {
  /** Window size, one number or [kh, kw]. */
  kernel: number | readonly [number, number];
  /** Step (default: the kernel size, like PyTorch). */
  stride?: number | readonly [number, number];
  /** Implicit -inf padding on each side (default 0; at most half the kernel). */
  padding?: number | readonly [number, number];
  /** Spacing of the window taps (default 1). */
  dilation?: number | readonly [number, number];
}

function pair(op: string, what: string, v: number | readonly [number, number], min: number): [number, number] {
  const p: [number, number] = typeof v === 'number' ? [v, v] : [v[0], v[1]];
  if (!p.every((d) => Number.isInteger(d) && d >= min)) {
    throw new Error(`${op}: ${what} must be integers >= ${min}, got ${JSON.stringify(v)}`);
  }
  return p;
}

/** Output size of a pooling window sweep (floor mode, like PyTorch's default). */
function outSize(n: number, k: number, s: number, p: number, d: number): number {
  return Math.floor((n + 2 * p - d * (k - 1) - 1) / s) + 1;
}

/** 2-D max pooling of x [N, C, H, W]; `{ kernel: 3, stride: 2, padding: 1 }` is ResNet's stem. */
export function maxPool2d(x: Tensor, options: MaxPoolOptions): Tensor {
  const op = 'maxPool2d';
  checkDtype(op, x, ['f32', 'f16']);
  checkRank(op, x, 4);
  const [kh, kw] = pair(op, 'kernel', options.kernel, 1);
  const [sh, sw] = pair(op, 'stride', options.stride ?? options.kernel, 1);
  const [ph, pw] = pair(op, 'padding', options.padding ?? 0, 0);
  const [dh, dw] = pair(op, 'dilation', options.dilation ?? 1, 1);
  if (ph > Math.floor(kh / 2) || pw > Math.floor(kw / 2)) {
    throw new Error(`${op}: padding [${ph}, ${pw}] must be at most half the kernel [${kh}, ${kw}]`);
  }
  const [n, c, h, w] = x.shape;
  const oh = outSize(h, kh, sh, ph, dh);
  const ow = outSize(w, kw, sw, pw, dw);
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
