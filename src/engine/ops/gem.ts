/**
 * Generalized-mean (GeM) pooling, MultiGrain's pooling layer:
 *   e[n, c] = ( mean_{h,w} max(x[n, c, h, w], eps)^p )^(1/p)
 * with p a [1] tensor read on the GPU (learnable: the gradient w.r.t. p is computed, also when
 * x needs none) or a static number. p = 1 is average pooling of the clamped input, p = Infinity
 * max pooling (the kernels switch on the value, so a p tensor may hold +inf too).
 *
 * Kernels `gem.wgsl` / `gem_bwd.wgsl` reduce rows of H*W values with T threads per row
 * (see `rowThreads`) and 256 / T rows per workgroup; the backward
 * recomputes the row statistics in the same pass that writes dx, so nothing but x is saved.
 * The per-row dp terms are summed by the engine's `sum`.
 */
import gemSource from '../../../shaders/gem.wgsl';
import gemBwdSource from '../../../shaders/gem_bwd.wgsl';
import { runtime } from '../runtime.js';
import { Uniforms } from '../uniforms.js';
import { empty, Tensor, type Storage, type Shape, shapeString } from '../tensor.js';
import { record } from '../tape.js';
import { checkFloat, checkRank } from './checks.js';
import { sum } from './reduce.js';

export interface GemOptions {
  /** Lower clamp of the input before the power (default 1e-6). */
  eps?: number;
}

/**
 * @internal Threads per row for `rows` reductions of `len` values: a power of two <= 256, enough for
 * about 16k threads in all (GPU occupancy) but at least ~16 values per thread. Many short rows
 * (GeM on [8, 2048, 7, 7]) get one thread per row: no workgroup tree at all, which matters on
 * CPU Vulkan (lavapipe), where a barrier tree made the 7x7 case ~10x slower.
 */
export function rowThreads(rows: number, len: number): number {
  let t = 1;
  while (t < 256 && rows * t < 16384 && t * 16 < len) t *= 2;
  return t;
}

/** @internal Workgroup size for T threads per row: 256 rows of one thread, else 64 threads (>= T). */
export function rowWorkgroup(t: number): number {
  return t === 1 ? 256 : Math.max(64, t);
}

interface RowPoolMode {
  /** Plain mean, no clamp (global average pooling). */
  avg?: boolean;
  p?: Tensor | number;
  eps?: number;
}

function rowUniforms(rows: number, len: number, mode: RowPoolMode): Uniforms {
  const p = typeof mode.p === 'number' ? mode.p : 0;
  return new Uniforms().u32(rows).u32(len).f32(mode.eps ?? 0).f32(p);
}

/** @internal Pools rows of x viewed as [rows, len] -> [rows] (GeM or plain mean). No autograd. */
export function rowPool(x: Tensor, rows: number, len: number, mode: RowPoolMode): Tensor {
  const out = empty([rows]);
  const t = rowThreads(rows, len);
  const wg = rowWorkgroup(t);
  const pBuffer = mode.p instanceof Tensor;
  const buffers = pBuffer ? [x.buffer, (mode.p as Tensor).buffer, out.buffer] : [x.buffer, out.buffer];
  const rt = runtime();
  rt.dispatchSource(
    { name: 'gem', source: gemSource, defines: { T: t, WG: wg, AVG: mode.avg === true, P_BUFFER: pBuffer } },
    { uniforms: rowUniforms(rows, len, mode), buffers, workgroups: rt.grid(Math.ceil(rows / (wg / t))) },
  );
  return out;
}

/**
 * @internal Backward of `rowPool` for the output gradient g [rows]: dx (shaped `inShape`) when
 * `needDx`, and the per-row dp terms [rows] when `needDp` (p a tensor).
 */
export function rowPoolBackward(
  g: Tensor, x: Tensor | null, rows: number, len: number, mode: RowPoolMode, inShape: Shape, needDx = true, needDp = false,
): { dx: Tensor | null; dpRow: Tensor | null } {
  const t = rowThreads(rows, len);
  const wg = rowWorkgroup(t);
  const avg = mode.avg === true;
  const pBuffer = mode.p instanceof Tensor;
  const dx = needDx ? empty(inShape) : null;
  const dpRow = needDp ? empty([rows]) : null;
  const buffers = [g.buffer];
  if (!avg) {
    buffers.push(x!.buffer);
    if (pBuffer) buffers.push((mode.p as Tensor).buffer);
  }
  const bDx = buffers.length + 1;
  if (dx) buffers.push(dx.buffer);
  const bDp = buffers.length + 1;
  if (dpRow) buffers.push(dpRow.buffer);
  const rt = runtime();
  rt.dispatchSource(
    {
      name: 'gem_bwd',
      source: gemBwdSource,
      defines: { T: t, WG: wg, AVG: avg, P_BUFFER: pBuffer, WRITE_DX: needDx, WRITE_DP: needDp, B_DX: needDx ? bDx : 0, B_DP: needDp ? bDp : 0 },
    },
    { uniforms: rowUniforms(rows, len, mode), buffers, workgroups: rt.grid(Math.ceil(rows / (wg / t))) },
  );
  return { dx, dpRow };
}

/**
 * GeM pooling of x [N, C, H, W] -> [N, C]. `p` is a [1] tensor (may be a learnable parameter;
 * its value stays on the GPU) or a static number (`Infinity` for max pooling).
 */
export function gem(x: Tensor, p: Tensor | number, options: GemOptions = {}): Tensor {
  const op = 'gem';
  checkFloat(op, x);
  checkRank(op, x, 4);
  const eps = options.eps ?? 1e-6;
  if (p instanceof Tensor) {
    checkFloat(op, p);
    if (p.size !== 1) throw new Error(`${op}: p must be a one-element tensor, got ${shapeString(p.shape)}`);
  } else if (!(p > 0)) {
    throw new Error(`${op}: p must be positive (or Infinity), got ${p}`);
  }
  const [n, c, h, w] = x.shape;
  const rows = n * c;
  const len = h * w;
  if (len === 0) throw new Error(`${op}: empty spatial size in ${shapeString(x.shape)}`);
  const flat = rowPool(x, rows, len, { p, eps });
  const out = flat.view([n, c]);
  flat.dispose();
  const inputs = p instanceof Tensor ? [x, p] : [x];
  const savedX: Storage = x.liveStorage(op);
  const savedP: Storage | null = p instanceof Tensor ? p.liveStorage(op) : null;
  const inShape = x.shape;
  record(op, inputs, [out], ([g], needs) => {
    savedX.retain();
    const xs = new Tensor(savedX, inShape);
    let ps: Tensor | number = p as number;
    if (savedP) {
      savedP.retain();
      ps = new Tensor(savedP, [1]);
    }
    const needDp = savedP !== null && needs[1] === true;
    const { dx, dpRow } = rowPoolBackward(g!, xs, rows, len, { p: ps, eps }, inShape, needs[0], needDp);
    let dp: Tensor | null = null;
    if (dpRow) {
      const total = sum(dpRow);
      dp = total.view([1]);
      total.dispose();
      dpRow.dispose();
    }
    xs.dispose();
    if (ps instanceof Tensor) ps.dispose();
    return savedP ? [dx, dp] : [dx];
  }, p instanceof Tensor ? [x, p] : [x]);
  return out;
}
