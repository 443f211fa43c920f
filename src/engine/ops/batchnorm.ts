/**
 * Batch normalization over NCHW images (PyTorch's BatchNorm2d), training and eval modes,
 * forward and backward, plus the eval-mode inference fusion (`foldBatchNorm` + `scaleShift`).
 *
 * Kernels (kernels/batchnorm/, shaders/batchnorm/): `reduce` (first level of the per-channel
 * sums), `stats` (per-channel statistics, running-estimate update, backward coefficients),
 * `apply` (one elementwise pass: forward, backward, fused eval).
 *
 * Training forward = 3 dispatches, training backward = 3 (2 when x needs no gradient), eval
 * forward = 2 (1 with a folded scale/shift), no readbacks.
 */
import { empty, zeros, type Tensor, shapeString } from '../tensor.js';
import { runtime } from '../runtime.js';
import { record } from '../tape.js';
import { checkFloat, checkRank } from '../checks.js';
import { binaryMap, copyStrided } from '../kernels/elementwise/map.js';
import { reducePartials } from '../kernels/batchnorm/reduce.js';
import { batchnormStats } from '../kernels/batchnorm/stats.js';
import { batchnormApply } from '../kernels/batchnorm/apply.js';

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

function dims(x: Tensor): { n: number; c: number; hw: number } {
  return { n: x.shape[0], c: x.shape[1], hw: x.shape[2] * x.shape[3] };
}

function checkChannelVector(op: string, t: Tensor, c: number, what: string, x: Tensor): void {
  checkFloat(op, t);
  if (t.size !== c || t.rank !== 1) {
    throw new Error(`${op}: ${what} must have shape [${c}] for input ${shapeString(x.shape)}, got ${shapeString(t.shape)}`);
  }
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
  batchnormStats('PLAIN', c, { partials, sums }, { chunks });
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
    batchnormStats('TRAIN', c, { partials, x, weight, bias, runningMean, runningVar, stats }, {
      chunks, hw, m, eps, momentum,
    });
    partials.dispose();
  } else {
    batchnormStats('EVAL', c, { weight, bias, runningMean, runningVar, stats }, { eps });
  }
  const out = batchnormApply({ x, P: stats, oU: 0, oS: 2 * c, oT: 3 * c, ...(residual ? { residual } : {}), relu });

  const training = options.training;
  const inputs = residual ? [x, weight, bias, residual] : [x, weight, bias];
  record(op, inputs, [out], ([g], needs, [xs, st, wt, os]) => {
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
      batchnormStats('BACKWARD', c, { partials, stats: st, weight: wt, dweight: dw, dbias: db!, coef }, { chunks, m });
      partials.dispose();
      if (needs[0] && training) dx = batchnormApply({ x: xs, P: coef, oU: 0, oS: c, oT: 2 * c, y: dy, oS2: 3 * c, ...(mask ? { mask } : {}) });
      coef.dispose();
    }
    // Eval mode: frozen statistics, y is affine in x: dx = dy * w * invstd.
    if (needs[0] && !training) dx = batchnormApply({ x: dy, P: st, oS: 2 * c });
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
  batchnormStats('FOLD', c, { weight, bias, runningMean, runningVar, scale, shift }, { eps });
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
  const out = batchnormApply({ x, P: scale, Q: shift, oS: 0, oT: 0, ...(residual ? { residual } : {}), relu });
  const inputs = residual ? [x, scale, shift, residual] : [x, scale, shift];
  record(op, inputs, [out], ([g], needs, [xs, sc, os]) => {
    // gm = dL/d(pre-ReLU value)
    const gm = relu ? reluGrad(g!, os) : g!;
    const dx = needs[0] ? batchnormApply({ x: gm, P: sc, oS: 0 }) : null;
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
    return result;
  }, [x, scale, out]);
  return out;
}
