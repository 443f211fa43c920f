/**
 * Batch normalization over NCHW images (PyTorch's BatchNorm2d), training and eval modes,
 * forward and backward, plus the eval-mode inference fusion (`foldBatchNorm` + `scaleShift`).
 *
 * Kernels (shaders/batchnorm_*.wgsl):
 * - `batchnorm_reduce`: first level of the per-channel reductions. Channel c's M = N*H*W
 *   values are cut into `chunks` pieces of about 8192 values; one 64-thread workgroup per
 *   (chunk, channel) reads its piece coalesced (no integer division per value) and reduces in
 *   workgroup memory. Short channels (M < 16k) share a workgroup: M / 256 threads each. Forward: sums
 *   of x - K and (x - K)^2 with K the channel's first value (no catastrophic cancellation for
 *   large means); backward: sums of dy and dy * (x - mean).
 * - `batchnorm_stats`: one thread per channel combines the chunk partials into the batch
 *   statistics (and updates the running estimates in place), or the backward coefficients.
 * - `batchnorm_apply`: one elementwise pass, y = (x - mean) * (w * invstd) + b (+ residual)
 *   (ReLU) forward, dx = (x - mean) * B + C0 + dy * A backward, x * scale + shift (+ residual)
 *   (ReLU) fused eval. A fused ReLU's backward is a mask (the saved output > 0) read by the
 *   backward reduce and apply passes, not a pass of its own.
 *
 * Training forward = 3 dispatches, training backward = 3 (2 when x needs no gradient), eval
 * forward = 2 (1 with a folded scale/shift), no readbacks.
 */
import reduceSource from '../../../shaders/batchnorm_reduce.wgsl';
import statsSource from '../../../shaders/batchnorm_stats.wgsl';
import applySource from '../../../shaders/batchnorm_apply.wgsl';
import { runtime } from '../runtime.js';
import { Uniforms } from '../uniforms.js';
import { empty, zeros, Tensor, type Storage, shapeString } from '../tensor.js';
import { record } from '../tape.js';
import { checkFloat, checkRank } from './checks.js';
import { binaryMap, copyStrided } from '../kernels/elementwise/map.js';

export interface BatchNormOptions {
  /** Batch statistics (and running-stat update) when true; running statistics when false. */
  training: boolean;
  /** Weight of the batch statistics in the running estimates (PyTorch default 0.1). */
  momentum?: number;
  /** Added to the variance (default 1e-5). */
  eps?: number;
  /** Added after the normalization, before the ReLU (a ResNet block's shortcut); gets a gradient. */
  residual?: Tensor;
  /** Apply ReLU last. With `residual`, the whole block tail is one pass forward. */
  relu?: boolean;
}

export interface ScaleShiftOptions {
  /** Apply ReLU after the affine map (and the residual add). */
  relu?: boolean;
  /** Added after the affine map, before the ReLU (a ResNet block's shortcut). */
  residual?: Tensor;
}

/**
 * A tensor's storage captured for a backward rule: the tape's `saved` list keeps the buffer
 * alive even when the caller disposes the tensor, and `revive` re-wraps it inside the rule
 * (dispose the revived tensor when done).
 */
interface SavedTensor {
  storage: Storage;
  shape: readonly number[];
  dtype: Tensor['dtype'];
}

function saveTensor(op: string, t: Tensor): SavedTensor {
  return { storage: t.liveStorage(op), shape: t.shape, dtype: t.dtype };
}

function revive(s: SavedTensor): Tensor {
  s.storage.retain();
  return new Tensor(s.storage, s.shape, s.dtype);
}

/** Values per workgroup of the first reduction level. */
const CHUNK_TARGET = 8192;
/**
 * Threads per reduction workgroup. 64 (two warps / one wavefront) keeps real GPUs busy through
 * the number of workgroups, and is ~3x faster than 256 on lavapipe, where the cost of a
 * workgroup-memory tree grows with the workgroup size.
 */
const REDUCE_WG = 64;
const MAX_CHUNKS = 64;

function dims(x: Tensor): { n: number; c: number; hw: number } {
  return { n: x.shape[0], c: x.shape[1], hw: x.shape[2] * x.shape[3] };
}

function checkChannelVector(op: string, t: Tensor, c: number, what: string, x: Tensor): void {
  checkFloat(op, t);
  if (t.size !== c || t.rank !== 1) {
    throw new Error(`${op}: ${what} must have shape [${c}] for input ${shapeString(x.shape)}, got ${shapeString(t.shape)}`);
  }
}

/**
 * Layout of the per-channel reduction of M values: threads per channel (a power of two, about
 * M / 256, at most REDUCE_WG) and, for long channels, chunks of about CHUNK_TARGET values.
 */
function chunking(m: number): { tpc: number; chunks: number; chunkLen: number } {
  let tpc = 1;
  while (tpc < REDUCE_WG && tpc * 256 < m) tpc *= 2;
  const chunks = tpc < REDUCE_WG ? 1 : Math.max(1, Math.min(MAX_CHUNKS, Math.ceil(m / CHUNK_TARGET)));
  const chunkLen = Math.ceil(m / chunks);
  return { tpc, chunks, chunkLen };
}

/**
 * First-level reduction: partials [C, chunks, 2]. `dy` + `stats` select the backward sums;
 * `mask` (the forward output after a fused ReLU) zeroes dy where it is not positive.
 */
function reducePartials(x: Tensor, dy: Tensor | null, stats: Tensor | null, mask: Tensor | null = null): { partials: Tensor; chunks: number } {
  const { n, c, hw: planeSize } = dims(x);
  // with vec4 loads, sizes and indices count groups of 4 values of a channel's plane. Backward
  // only: the forward statistics read as vec4 (same sums, other order) move gradients of the
  // F(4x4)-forced ResNet-50 parity test past its 1e-2 bound (bn1.weight 0.22, layer2.3.bn3.bias
  // 0.06), while the automatic and F(2x2) runs pass. Not a wrong sum: that width-2, batch-2
  // fixture is ill-conditioned (in float64 PyTorch, a 1e-6 relative change of the input moves
  // its gradients by 3.6e-4 (median) and bn1.weight's by 4.5e-3), so F(4x4)'s float32 error
  // decides. Gain too small (~1 % of a step) to loosen that test for.
  const vec4 = dy !== null && planeSize % 4 === 0;
  const hw = vec4 ? planeSize / 4 : planeSize;
  const m = n * hw;
  const { tpc, chunks, chunkLen } = chunking(m);
  const partials = empty([c, chunks, 2]);
  const u = new Uniforms().u32(c).u32(hw).u32(m).u32(chunks).u32(chunkLen).u32(0).u32(0).u32(0);
  const backward = dy !== null;
  const buffers = backward ? [x.buffer, dy.buffer, stats!.buffer, partials.buffer] : [x.buffer, partials.buffer];
  const masked = backward && mask !== null;
  if (masked) buffers.push(mask.buffer);
  runtime().dispatchSource(
    { name: 'batchnorm_reduce', source: reduceSource, defines: { BACKWARD: backward, MASK: masked, WG: REDUCE_WG, TPC: tpc, VEC4: vec4 } },
    { uniforms: u, buffers, workgroups: [chunks, Math.ceil(c / (REDUCE_WG / tpc))] },
  );
  return { partials, chunks };
}

type StatsMode = 'TRAIN' | 'EVAL' | 'FOLD' | 'BACKWARD' | 'PLAIN';

function statsKernel(mode: StatsMode, c: number, buffers: GPUBuffer[], p: { chunks?: number; hw?: number; m?: number; eps?: number; momentum?: number }): void {
  const u = new Uniforms()
    .u32(c).u32(p.chunks ?? 0).u32(p.hw ?? 0).u32(p.m ?? 0)
    .f32(p.eps ?? 0).f32(p.momentum ?? 0).u32(0).u32(0);
  runtime().dispatchSource(
    {
      name: 'batchnorm_stats',
      source: statsSource,
      defines: { MODE_TRAIN: mode === 'TRAIN', MODE_EVAL: mode === 'EVAL', MODE_FOLD: mode === 'FOLD', MODE_BACKWARD: mode === 'BACKWARD' },
    },
    { uniforms: u, buffers, workgroups: [Math.ceil(c / 64)] },
  );
}

interface ApplyArgs {
  x: Tensor;
  /** Coefficient buffers: P holds the centre (oU) and scale (oS), Q the shift (oT) and second scale (oS2). */
  P: Tensor;
  Q?: Tensor;
  oU?: number;
  oS: number;
  oT?: number;
  y?: Tensor;
  oS2?: number;
  residual?: Tensor;
  relu?: boolean;
  /** With `y`: the y term counts only where mask > 0 (a fused ReLU's backward). */
  mask?: Tensor;
}

/** One elementwise pass of `batchnorm_apply` over x's shape [N, C, H, W]. */
function applyKernel(a: ApplyArgs): Tensor {
  const { c, hw } = dims(a.x);
  const out = empty(a.x.shape);
  const vec4 = hw % 4 === 0;
  const w = vec4 ? 4 : 1;
  const n = a.x.size / w;
  const center = a.oU !== undefined;
  const shift = a.oT !== undefined;
  const second = a.y !== undefined;
  const residual = a.residual !== undefined;
  const useQ = shift || second;
  const buffers = [a.x.buffer, a.P.buffer];
  if (useQ) buffers.push((a.Q ?? a.P).buffer);
  const bY = buffers.length + 1;
  if (second) buffers.push(a.y!.buffer);
  const bR = buffers.length + 1;
  if (residual) buffers.push(a.residual!.buffer);
  const mask = second && a.mask !== undefined;
  const bM = buffers.length + 1;
  if (mask) buffers.push(a.mask!.buffer);
  const bOut = buffers.length + 1;
  buffers.push(out.buffer);
  const u = new Uniforms().u32(n).u32(c).u32(hw).u32(a.oU ?? 0).u32(a.oS).u32(a.oT ?? 0).u32(a.oS2 ?? 0).u32(0);
  const rt = runtime();
  rt.dispatchSource(
    {
      name: 'batchnorm_apply',
      source: applySource,
      defines: {
        V: vec4 ? 'vec4f' : 'f32', W: `${w}u`, CENTER: center, SHIFT: shift, SECOND: second, RESIDUAL: residual,
        RELU: a.relu === true, USE_Q: useQ, B_Y: second ? bY : 0, B_R: residual ? bR : 0, MASK: mask, B_M: mask ? bM : 0, B_OUT: bOut,
      },
    },
    { uniforms: u, buffers, workgroups: rt.grid(Math.ceil(n / 256)) },
  );
  return out;
}

function checkResidual(op: string, residual: Tensor, x: Tensor): void {
  checkFloat(op, residual);
  if (residual.shape.join() !== x.shape.join()) {
    throw new Error(`${op}: residual ${shapeString(residual.shape)} must have the input's shape ${shapeString(x.shape)}`);
  }
}

/** The gradient before a fused ReLU: g where the op's output `out` is positive, else 0. */
function reluGrad(g: Tensor, out: Tensor): Tensor {
  return binaryMap('select(0.0, x, y > 0.0)', g, out);
}

/** Per-channel sums (dy, dy * x) over N, H, W: [2, C]. No autograd. */
function channelSums(dy: Tensor, x: Tensor): Tensor {
  const { c } = dims(x);
  const zeroMean = zeros([c]);
  const { partials, chunks } = reducePartials(x, dy, zeroMean);
  const sums = empty([2, c]);
  statsKernel('PLAIN', c, [partials.buffer, sums.buffer], { chunks });
  partials.dispose();
  zeroMean.dispose();
  return sums;
}

/** Copies row `row` of a [rows, C] tensor into a fresh [C] tensor. */
function row(t: Tensor, r: number, c: number): Tensor {
  const out = empty([c]);
  runtime().copy(t.buffer, r * c * 4, out.buffer, 0, c * 4);
  return out;
}

/**
 * Batch normalization of x [N, C, H, W] with per-channel weight, bias and running estimates
 * (all [C]). Training: normalizes with the batch mean and biased variance and updates
 * `runningMean` / `runningVar` in place on the GPU (momentum, unbiased variance, like
 * PyTorch). Eval: normalizes with the running estimates. Optionally adds `residual` and
 * applies ReLU in the same pass. Gradients flow to x, weight, bias (and residual).
 */
export function batchnorm2d(x: Tensor, weight: Tensor, bias: Tensor, runningMean: Tensor, runningVar: Tensor, options: BatchNormOptions): Tensor {
  const op = 'batchnorm2d';
  checkFloat(op, x);
  checkRank(op, x, 4);
  const { n, c, hw } = dims(x);
  checkChannelVector(op, weight, c, 'weight', x);
  checkChannelVector(op, bias, c, 'bias', x);
  checkChannelVector(op, runningMean, c, 'runningMean', x);
  checkChannelVector(op, runningVar, c, 'runningVar', x);
  const momentum = options.momentum ?? 0.1;
  const eps = options.eps ?? 1e-5;
  const m = n * hw;
  if (options.training && m <= 1) {
    throw new Error(`${op}: training needs more than one value per channel, got input ${shapeString(x.shape)}`);
  }
  if (x.size === 0) throw new Error(`${op}: empty input ${shapeString(x.shape)}`);
  const { residual } = options;
  const relu = options.relu === true;
  if (residual) checkResidual(op, residual, x);

  // stats [4, C] = (mean, invstd, w * invstd, b): batch or running statistics.
  const stats = empty([4, c]);
  if (options.training) {
    const { partials, chunks } = reducePartials(x, null, null);
    statsKernel('TRAIN', c, [partials.buffer, x.buffer, weight.buffer, bias.buffer, runningMean.buffer, runningVar.buffer, stats.buffer], {
      chunks, hw, m, eps, momentum,
    });
    partials.dispose();
  } else {
    statsKernel('EVAL', c, [weight.buffer, bias.buffer, runningMean.buffer, runningVar.buffer, stats.buffer], { eps });
  }
  const out = applyKernel({ x, P: stats, oU: 0, oS: 2 * c, oT: 3 * c, ...(residual ? { residual } : {}), relu });

  const training = options.training;
  const saved = [saveTensor(op, x), saveTensor(op, stats), saveTensor(op, weight), ...(relu ? [saveTensor(op, out)] : [])];
  const inputs = residual ? [x, weight, bias, residual] : [x, weight, bias];
  record(op, inputs, [out], ([g], needs) => {
    const [xs, st, wt, os] = saved.map(revive);
    // dy = dL/d(value before the ReLU), the gradient of the normalization and of the residual.
    // Training without a residual gradient: the ReLU's mask is applied inside the two backward
    // kernels (`mask` = the output); otherwise masked dy is materialized (the residual's gradient).
    const fuseMask = relu && training && !(residual && needs[3]);
    const mask = fuseMask ? os! : null;
    const dy = relu && !fuseMask ? reluGrad(g!, os!) : g!;
    const dResidual = residual && needs[3] ? (relu ? dy : copyStrided(g!, g!.shape)) : null;
    let dx: Tensor | null = null;
    const dw = needs[1] || needs[2] || training ? empty([c]) : null;
    const db = dw ? empty([c]) : null;
    if (dw) {
      // sums of dy and dy * (x - mean) -> dweight, dbias and the dx coefficients
      const { partials, chunks } = reducePartials(xs, dy, st, mask);
      const coef = empty([4, c]);
      statsKernel('BACKWARD', c, [partials.buffer, st.buffer, wt.buffer, dw.buffer, db!.buffer, coef.buffer], { chunks, m });
      partials.dispose();
      if (needs[0] && training) dx = applyKernel({ x: xs, P: coef, oU: 0, oS: c, oT: 2 * c, y: dy, oS2: 3 * c, ...(mask ? { mask } : {}) });
      coef.dispose();
    }
    // Eval mode: frozen statistics, y is affine in x: dx = dy * w * invstd.
    if (needs[0] && !training) dx = applyKernel({ x: dy, P: st, oS: 2 * c });
    for (const t of [xs, st, wt, os]) t?.dispose();
    if (dy !== g && dResidual !== dy) dy.dispose();
    if (!needs[1]) dw?.dispose();
    if (!needs[2]) db?.dispose();
    return [dx, needs[1] ? dw : null, needs[2] ? db : null, ...(residual ? [dResidual] : [])];
  }, relu ? [x, stats, weight, out] : [x, stats, weight]);
  stats.dispose();
  return out;
}

/**
 * Folds eval-mode batchnorm into a per-channel affine map: scale = w / sqrt(var + eps),
 * shift = b - mean * scale (both [C], no autograd). Use with `scaleShift` for inference.
 */
export function foldBatchNorm(weight: Tensor, bias: Tensor, runningMean: Tensor, runningVar: Tensor, eps = 1e-5): { scale: Tensor; shift: Tensor } {
  const op = 'foldBatchNorm';
  checkFloat(op, weight);
  checkRank(op, weight, 1, 'weight');
  const c = weight.size;
  for (const [t, what] of [[bias, 'bias'], [runningMean, 'runningMean'], [runningVar, 'runningVar']] as const) {
    checkFloat(op, t);
    if (t.rank !== 1 || t.size !== c) throw new Error(`${op}: ${what} must have shape [${c}] like weight, got ${shapeString(t.shape)}`);
  }
  const scale = empty([c]);
  const shift = empty([c]);
  statsKernel('FOLD', c, [weight.buffer, bias.buffer, runningMean.buffer, runningVar.buffer, scale.buffer, shift.buffer], { eps });
  return { scale, shift };
}

/**
 * One pass of out = x * scale[c] + shift[c] (+ residual) (then ReLU) over x [N, C, H, W]:
 * eval-mode batchnorm (see `foldBatchNorm`) fused with a ResNet block's residual add and ReLU.
 * Differentiable in x, scale, shift and residual.
 */
export function scaleShift(x: Tensor, scale: Tensor, shift: Tensor, options: ScaleShiftOptions = {}): Tensor {
  const op = 'scaleShift';
  checkFloat(op, x);
  checkRank(op, x, 4);
  const { c } = dims(x);
  checkChannelVector(op, scale, c, 'scale', x);
  checkChannelVector(op, shift, c, 'shift', x);
  const residual = options.residual;
  if (residual) checkResidual(op, residual, x);
  const relu = options.relu === true;
  const out = applyKernel({ x, P: scale, Q: shift, oS: 0, oT: 0, ...(residual ? { residual } : {}), relu });
  const inputs = residual ? [x, scale, shift, residual] : [x, scale, shift];
  const saved = [saveTensor(op, x), saveTensor(op, scale), saveTensor(op, out)];
  record(op, inputs, [out], ([g], needs) => {
    const [xs, sc, os] = saved.map(revive);
    // gm = dL/d(pre-ReLU value)
    const gm = relu ? reluGrad(g!, os) : g!;
    const dx = needs[0] ? applyKernel({ x: gm, P: sc, oS: 0 }) : null;
    let dScale: Tensor | null = null;
    let dShift: Tensor | null = null;
    if (needs[1] || needs[2]) {
      const sums = channelSums(gm, xs);
      if (needs[1]) dScale = row(sums, 1, c);
      if (needs[2]) dShift = row(sums, 0, c);
      sums.dispose();
    }
    const result: (Tensor | null)[] = [dx, dScale, dShift];
    if (residual) result.push(needs[3] ? (relu ? gm : copyStrided(g!, g!.shape)) : null);
    if (relu && !(residual && needs[3])) gm.dispose();
    for (const t of [xs, sc, os]) t.dispose();
    return result;
  }, [x, scale, out]);
  return out;
}
