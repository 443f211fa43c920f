/**
 * The one place that chooses how a convolution pass is computed (docs/conv2d.md says why):
 *   'matmul'        1x1 unpadded ungrouped convolutions as the matmul kernel (pointwise.ts)
 *   'winograd-2x2'  Winograd F(2x2, 3x3) (winograd.ts)
 *   'winograd-4x4'  Winograd F(4x4, 3x3)
 *   'depthwise'     one input channel per group (groups = Cin): depthwise.ts, depthwise_dgrad.ts,
 *                   depthwise_wgrad.ts, on every schedule
 *   'grouped'       grouped convolutions with narrow groups: the forward pass and the stride-1
 *                   input gradient on grouped.ts (channel-blocked, several outputs per thread),
 *                   the strided input gradient on grouped_dgrad.ts (by stride phase),
 *                   the weight gradient as the depthwise weight-gradient kernel (a reduction
 *                   per weight row)
 *   'gemm'          the implicit GEMM (gemm.ts, wgrad.ts), on the tiled or direct schedule
 * from the geometry, the pass and the tuning (`convSchedule`, `winograd`, `winogradTile`).
 */
import { tuning, type Tuning } from '../../tuning.js';
import type { Conv2dGeometry } from './geometry.js';
import { resolveSchedule, type ConvSchedule } from './schedule.js';
import type { WinogradM, WinogradProblem } from './winograd.js';
import { isDepthwise } from './depthwise.js';

/** A pass of the convolution: the forward pass or one of the two gradients. */
export type ConvPass = 'forward' | 'gradInput' | 'gradWeight';

/** How a convolution pass is computed. */
export type ConvAlgorithm = 'gemm' | 'matmul' | 'winograd-2x2' | 'winograd-4x4' | 'depthwise' | 'grouped';

export interface ConvChoice {
  algorithm: ConvAlgorithm;
  /** The implicit GEMM's schedule (also decides 'matmul' and Winograd). */
  schedule: ConvSchedule;
  /** The Winograd problem of the pass, for the Winograd algorithms. */
  winograd?: WinogradProblem;
}

export interface ChooseOptions {
  /** The schedule setting (default `tuning().convSchedule`). */
  schedule?: Tuning['convSchedule'];
  /**
   * The differentiable op: stride-1 1x1 convolutions run as matmuls in all three passes on
   * every schedule. The raw entries (conv2dRaw, conv2dGradInput, conv2dGradWeight) use the
   * matmul for the forward pass on the direct schedule only.
   */
  autograd?: boolean;
  /**
   * Half-precision (f16) operands: only the implicit GEMM has f16 variants, so every forward
   * convolution runs as 'gemm' (its direct schedule has the pointwise and batch-1 forms).
   */
  half?: boolean;
}

/** The algorithm and schedule of one pass of the convolution `g`. */
export function chooseConvAlgorithm(g: Conv2dGeometry, pass: ConvPass, options: ChooseOptions = {}): ConvChoice {
  const schedule = resolveSchedule(options.schedule ?? tuning().convSchedule);
  if (options.half) return { algorithm: 'gemm', schedule };
  // a GEMM tile would use one row of its 64 (K = kh·kw per channel)
  if (isDepthwise(g) && tuning().convDepthwise) return { algorithm: 'depthwise', schedule };
  // the GEMM's tiles are mostly idle on Cout/g x Cin/g·kh·kw weight blocks this small
  if (pass === 'gradWeight' && g.groups > 1 && (g.Cin / g.groups) * (g.Cout / g.groups) <= GROUPED_WGRAD_MAX && tuning().convDepthwise) {
    return { algorithm: 'grouped', schedule };
  }
  if (pass !== 'gradWeight' && groupedFits(g, pass) && tuning().convDepthwise) return { algorithm: 'grouped', schedule };
  const pointwise = g.KH === 1 && g.KW === 1 && g.ph === 0 && g.pw === 0 && g.groups === 1;
  if (pointwise && ((options.autograd && g.sh === 1 && g.sw === 1) || (pass === 'forward' && schedule === 'direct'))) {
    return { algorithm: 'matmul', schedule };
  }
  const wino = winogradProblem(g, pass === 'gradInput');
  const tile = wino && winogradTile(wino, schedule === 'direct');
  if (wino && tile) return { algorithm: tile === 4 ? 'winograd-4x4' : 'winograd-2x2', schedule, winograd: wino };
  return { algorithm: 'gemm', schedule };
}

/** The Winograd tile of a Winograd algorithm. */
export function winogradTileOf(algorithm: ConvAlgorithm): WinogradM {
  return algorithm === 'winograd-4x4' ? 4 : 2;
}

/**
 * The convolution as a Winograd problem, if it is one: 3x3, stride 1, no dilation, one group,
 * padding at most 2 (the input gradient then pads by 2 − p). The weight gradient uses the
 * forward problem. `gradInput`: the problem of the input gradient (dy → dx).
 */
function winogradProblem(g: Conv2dGeometry, gradInput: boolean): WinogradProblem | null {
  const fits = g.KH === 3 && g.KW === 3 && g.sh === 1 && g.sw === 1 && g.dh === 1 && g.dw === 1 && g.groups === 1 && g.ph <= 2 && g.pw <= 2;
  if (!fits) return null;
  return gradInput
    ? { N: g.N, C: g.Cout, H: g.OH, W: g.OW, R: g.Cin, OH: g.H, OW: g.W, padH: 2 - g.ph, padW: 2 - g.pw, flip: true }
    : { N: g.N, C: g.Cin, H: g.H, W: g.W, R: g.Cout, OH: g.OH, OW: g.OW, padH: g.ph, padW: g.pw, flip: false };
}

/**
 * The largest (Cin/g)·(Cout/g) whose weight gradient runs as per-row reductions: SENet154's
 * layer 1 (2·4 = 8) 2.2x less CPU time than the GEMM on lavapipe, its layer 2 (4·8 = 32) 1.7x more.
 */
const GROUPED_WGRAD_MAX = 16;

/**
 * Whether the forward pass or input gradient of `g` runs on the grouped kernels: more than one
 * group, a forward pass at stride 1 (strided ones measured slower than the GEMM on lavapipe),
 * and channels per group, on the side the pass writes, up to GROUPED_MAX_FORWARD,
 * GROUPED_MAX_GRAD_INPUT (stride 1) or GROUPED_MAX_STRIDED_GRAD_INPUT. `convGrouped: 'always'`
 * takes every pass the kernels compute (up to GROUPED_MAX_OUT, strided forward passes too).
 */
function groupedFits(g: Conv2dGeometry, pass: ConvPass): boolean {
  const mode = tuning().convGrouped;
  if (g.groups === 1 || mode === 'never') return false;
  const strided = g.sh !== 1 || g.sw !== 1;
  if (strided && mode === 'auto' && pass === 'forward') return false;
  const written = (pass === 'forward' ? g.Cout : g.Cin) / g.groups;
  const max = mode === 'always' ? GROUPED_MAX_OUT
    : pass === 'forward' ? GROUPED_MAX_FORWARD
    : strided ? GROUPED_MAX_STRIDED_GRAD_INPUT : GROUPED_MAX_GRAD_INPUT;
  return written <= max;
}

/** The widest groups (channels per group written) the grouped kernel computes. */
const GROUPED_MAX_OUT = 32;
/**
 * The widest groups chosen automatically. CPU-time ratios GEMM / grouped on SENet154's
 * stride-1 layers at batch 4 (contended lavapipe): forward 1.24 (Cout/g 4), 1.0 (8), 0.79 (16),
 * 0.82 (32); input gradient 2.9 (Cin/g 2), 1.9 (4), 1.08 (8), 1.45 (16).
 */
const GROUPED_MAX_FORWARD = 8;
const GROUPED_MAX_GRAD_INPUT = 16;
/**
 * The widest groups whose strided input gradient (grouped_dgrad.wgsl, by stride phase) is
 * chosen automatically: at batch 4-8 wider groups ran no faster than the GEMM (docs/conv2d.md).
 */
const GROUPED_MAX_STRIDED_GRAD_INPUT = 4;

const WINOGRAD_MIN_TILES = 32;
const WINOGRAD_MIN_CHANNELS = 64;
const WINOGRAD_MIN_SAVING = 1.5;
/** F(4x4) is chosen over F(2x2) when it saves this much more (its transforms cost more). */
const F4_MIN_GAIN = 1.3;

/**
 * The tile the problem runs with (null: not Winograd) under `tuning().winograd`: 'never',
 * 'always' (the forced `winogradTile`, or the better tile), or 'auto': on the direct schedule
 * only, with at least 64 channels on both sides, 32 tiles and a multiply saving of 1.5x;
 * F(4x4) where it saves 1.3x more multiplies than F(2x2) with enough tiles.
 */
function winogradTile(p: WinogradProblem, direct: boolean): WinogradM | null {
  const { winograd: mode, winogradTile: forcedTile } = tuning();
  if (mode === 'never') return null;
  const fits = (m: WinogradM) => winogradTiles(p, m) >= WINOGRAD_MIN_TILES && multiplySaving(p, m) >= WINOGRAD_MIN_SAVING;
  const best: WinogradM = fits(4) && multiplySaving(p, 4) >= F4_MIN_GAIN * multiplySaving(p, 2) ? 4 : 2;
  if (mode === 'always') return forcedTile ?? best;
  const wide = direct && p.C >= WINOGRAD_MIN_CHANNELS && p.R >= WINOGRAD_MIN_CHANNELS;
  return wide && fits(best) ? forcedTile ?? best : null;
}

/** Output tiles of the problem with m x m outputs each. */
function winogradTiles(p: Pick<WinogradProblem, 'N' | 'OH' | 'OW'>, m: WinogradM): number {
  return p.N * Math.ceil(p.OH / m) * Math.ceil(p.OW / m);
}

/**
 * Multiplies of the direct convolution over those of Winograd F(m x m): 2.25 (m = 2) or 4
 * (m = 4) on maps that are multiples of m, less where tiles overhang the map (m = 2 on 7x7:
 * 1.72, 3x3: 1.27, 1x1: 0.56, i.e. 16 multiplies for 9 useful).
 */
function multiplySaving(p: WinogradProblem, m: WinogradM): number {
  return (9 * p.OH * p.OW) / ((m + 2) ** 2 * Math.ceil(p.OH / m) * Math.ceil(p.OW / m));
}
