/**
 * Max pooling (any kernel, stride, padding, dilation; -inf padding like PyTorch) and global
 * average pooling over NCHW images, forward and backward.
 *
 * - `pool_max`: one thread per output, grid [blocks of 256 within a plane, plane] (in-plane
 *   coordinates by exact float-reciprocal division: no integer division per value); the argmax (in-plane index, i32) is saved when a
 *   gradient will be needed.
 * - `pool_max_bwd`: one thread per stride-sized block of inputs loads the few output windows
 *   that can cover the block (4 for 3x3/2) and gives each input value the sum of the
 *   gradients whose saved argmax it is. No atomics, deterministic.
 * - global average pooling runs on the GeM row kernels (`gem.wgsl` / `gem_bwd.wgsl`, AVG).
 */
import maxSource from '../../../shaders/pool_max.wgsl';
import maxBwdSource from '../../../shaders/pool_max_bwd.wgsl';
import { runtime } from '../runtime.js';
import { Uniforms } from '../uniforms.js';
import { empty, Tensor, type Storage, shapeString } from '../tensor.js';
import { record, isGradEnabled } from '../tape.js';
import { checkFloat, checkRank } from './checks.js';
import { rowPool, rowPoolBackward } from './gem.js';

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

/** Workgroup grid [blocks per plane, planes (folded into y and z above 65535)]. */
function planeGrid(blocks: number, planes: number): [number, number, number] {
  const max = runtime().gpu.limits.maxComputeWorkgroupsPerDimension;
  const z = Math.ceil(planes / max);
  return [blocks, Math.ceil(planes / z), z];
}

/** 2-D max pooling of x [N, C, H, W]; `{ kernel: 3, stride: 2, padding: 1 }` is ResNet's stem. */
export function maxPool2d(x: Tensor, options: MaxPoolOptions): Tensor {
  const op = 'maxPool2d';
  checkFloat(op, x);
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
  const out = empty([n, c, oh, ow]);
  const needIndex = isGradEnabled() && x.requiresGrad;
  const index = needIndex ? empty([n, c, oh, ow], 'i32') : null;
  const planes = n * c;
  const head = () => new Uniforms().u32(planes).u32(h).u32(w).u32(oh).u32(ow).u32(kh).u32(kw).u32(sh).u32(sw).u32(ph).u32(pw).u32(dh).u32(dw);
  const rt = runtime();
  if (out.size > 0) {
    rt.dispatchSource(
      { name: 'pool_max', source: maxSource, defines: { SAVE_INDEX: needIndex } },
      {
        uniforms: head().f32(1 / ow).u32(0).u32(0),
        buffers: index ? [x.buffer, out.buffer, index.buffer] : [x.buffer, out.buffer],
        workgroups: planeGrid(Math.ceil((oh * ow) / 256), planes),
      },
    );
  }
  if (index) {
    const inShape = x.shape;
    // backward blocks (stride-sized) and the windows that can cover one (see pool_max_bwd.wgsl)
    const bh = Math.ceil((h + ph) / sh);
    const bw = Math.ceil((w + pw) / sw);
    const th = Math.floor(((kh - 1) * dh) / sh) + 1;
    const tw = Math.floor(((kw - 1) * dw) / sw) + 1;
    const saved: Storage = index.liveStorage(op);
    record(op, [x], [out], ([g]) => {
      saved.retain();
      const idx = new Tensor(saved, index.shape, 'i32');
      const dx = empty(inShape);
      if (dx.size > 0) {
        rt.dispatchSource(
          { name: 'pool_max_bwd', source: maxBwdSource, defines: { TH: th, TW: tw, NC: th * tw } },
          {
            uniforms: new Uniforms().u32(planes).u32(h).u32(w).u32(oh).u32(ow).u32(bh).u32(bw).u32(sh).u32(sw).u32(ph).u32(pw).f32(1 / bw),
            buffers: [g!.buffer, idx.buffer, dx.buffer],
            workgroups: planeGrid(Math.ceil((bh * bw) / 256), planes),
          },
        );
      }
      idx.dispose();
      return [dx];
    }, [index]);
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
