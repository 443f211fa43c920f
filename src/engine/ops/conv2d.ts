/**
 * 2-D convolution (PyTorch's `conv2d`, cross-correlation): forward, input gradient and weight
 * gradient, each an implicit GEMM (no im2col buffer), plus the autograd op `conv2d`.
 *
 * Layouts: images NCHW; weights in PyTorch's `[Cout, Cin/groups, kh, kw]`, used as-is.
 * GEMM mapping (per group; groups run side by side):
 *
 *   forward  Y[co, col]  = Σ_k W[co, k] · X̂[k, col]          M = Cout, N = N·OH·OW, K = Cin·kh·kw
 *            W is the weight tensor read as the row-major [Cout, K] matrix it already is
 *            (k = (ci·kh + i)·kw + j), X̂[k, (n, oh, ow)] = x[n, ci, oh·s − p + i·d, ow·s − p + j·d]
 *            (zero outside the image), gathered on the fly; Y[co, (n, oh, ow)] is y[n, co, oh, ow].
 *   dgrad    dX[ci, col] = Σ_k Wᵀ[ci, k] · dŶ[k, col]           M = Cin, N = N·H·W, K = Cout·kh·kw
 *            run once per stride phase (ih mod s, iw mod s): a phase only meets the taps with
 *            (ih + p − i·d) ≡ 0 (mod s), so K shrinks to Cout·⌈kh/s⌉·⌈kw/s⌉ and no multiply is
 *            wasted on the zeros of the strided transposed convolution (stride 2, odd sizes
 *            included); dŶ reads dy[n, co, (ih + p − i·d)/s, ...] with bounds checks. Wᵀ for
 *            the phase is first copied to [groups, Cin/g, Cout/g, taps] (conv2d_wphase.wgsl, a
 *            weight-sized pass) so that A is contiguous along k like the forward weight.
 *   wgrad    dW[co, k]   = Σ_r dY[co, r] · X̂ᵀ[r, k]            M = Cout, N = Cin·kh·kw, K = N·OH·OW
 *            with split-K: the reduction is cut into chunks whose partial sums go to a
 *            [splits, Cout, Cin·kh·kw] buffer, added by a second pass (conv2d_reduce.wgsl),
 *            when the weight is small relative to N·OH·OW (ResNet layer4, conv1).
 *
 * 3×3 stride-1 convolutions (ungrouped, undilated) may instead run as Winograd F(2×2, 3×3) or
 * F(4×4, 3×3) in all three passes (conv2d-winograd.ts: 2.25× or 4× fewer multiplies, a batched
 * matmul between transforms); `conv2dAlgorithm` tells which one a pass takes,
 * `setConv2dWinograd` forces it.
 *
 * 1×1 stride-1 convolutions need no im2col at all: B is x itself ([Cin, H·W] per image), read
 * as vec4 without bounds checks (the kernel's POINTWISE variant, a plain GEMM on a view).
 *
 * Schedules (see shaders/conv2d.wgsl): 'tiled' — 64×64 tiles through workgroup memory,
 * 256 threads with 4×4 register blocks — for GPUs; 'direct' — the same GEMMs without
 * workgroup memory or barriers, up to 16 rows × 16 columns per thread — for CPU adapters
 * (lavapipe, SwiftShader), where a barrier is a coroutine switch of every SIMD group and every
 * load a per-lane scalar loop. `'auto'` (default) picks by adapter; `setConv2dStrategy`
 * overrides it (tests run both). The direct forward/dgrad kernel also has a swapped form
 * (pixels on the per-thread scalar side, channels on the vec4 side) whose pixel tile can be any
 * multiple of 64/colt, for the small maps of batch-1 inference (14×14); the tile model
 * (`directTile`) picks the form and shape that minimize the padded work per core.
 */
import convKernel from '../../../shaders/conv2d.wgsl';
import epilogueSource from '../../../shaders/conv2d_epilogue.wgsl';
import wgradSource from '../../../shaders/conv2d_wgrad.wgsl';
import reduceSource from '../../../shaders/conv2d_reduce.wgsl';
import wphaseSource from '../../../shaders/conv2d_wphase.wgsl';
import { runtime } from '../runtime.js';
import { Uniforms } from '../uniforms.js';
import { empty, Tensor, type Shape, type Storage, shapeString } from '../tensor.js';
import { record } from '../tape.js';
import { sum } from './reduce.js';
import { checkFloat } from './checks.js';
import { placeholder } from './placeholder.js';
import { matmulRaw, hasSubgroupKernel } from './matmul.js';
import { mapStrided } from '../kernels/elementwise/map.js';
import { winogradConv, winogradGradWeight, winogradTile, type WinogradProblem } from './conv2d-winograd.js';

/** The implicit-GEMM kernel with its fused epilogue (a shared WGSL fragment). */
const convSource = epilogueSource + convKernel;

export interface ConvOptions {
  /** Stride (default 1), one value or [height, width]. */
  stride?: number | readonly [number, number];
  /** Zero padding on each side (default 0). */
  padding?: number | readonly [number, number];
  /** Dilation (default 1). */
  dilation?: number | readonly [number, number];
  /** Channel groups (default 1): Cin and Cout must be multiples. */
  groups?: number;
}

/**
 * Fused forward epilogue, for eval-mode batchnorm folding: per output channel c,
 *   y = relu?( (conv(x) + bias[c]) * scale[c] + shift[c] + residual )
 * with every part optional. `scale`/`shift` are [Cout] (e.g. from `foldBatchNorm`), both or
 * neither; `residual` has the output's shape (a ResNet block's shortcut); `relu` applies last.
 * No autograd: for inference.
 */
export interface ConvEpilogue {
  scale?: Tensor;
  shift?: Tensor;
  residual?: Tensor;
  relu?: boolean;
}

export type ConvStrategy = 'auto' | 'tiled' | 'direct';

let strategySetting: ConvStrategy = 'auto';

/** Chooses the kernel schedule for all convolutions ('auto' = by adapter). */
export function setConv2dStrategy(strategy: ConvStrategy): void {
  strategySetting = strategy;
}

export function getConv2dStrategy(): ConvStrategy {
  return strategySetting;
}

/** The schedule 'auto' resolves to on this adapter: 'direct' on CPU implementations. */
export function conv2dResolvedStrategy(strategy: ConvStrategy = strategySetting): 'tiled' | 'direct' {
  if (strategy !== 'auto') return strategy;
  return runtime().gpu.cpuAdapter ? 'direct' : 'tiled';
}

/** Shapes and hyper-parameters of one convolution. */
export interface Conv2dGeometry {
  N: number; Cin: number; H: number; W: number;
  Cout: number; KH: number; KW: number; OH: number; OW: number;
  sh: number; sw: number; ph: number; pw: number; dh: number; dw: number; groups: number;
}

function pair(op: string, what: string, v: number | readonly [number, number] | undefined, dflt: number, min: number): [number, number] {
  const p: [number, number] = v === undefined ? [dflt, dflt] : typeof v === 'number' ? [v, v] : [v[0], v[1]];
  if (!p.every((x) => Number.isInteger(x) && x >= min)) throw new Error(`${op}: ${what} must be integers >= ${min}, got ${JSON.stringify(v)}`);
  return p;
}

/** Validates shapes and options (clear errors naming the shapes) and derives the output size. */
export function conv2dGeometry(xShape: Shape, wShape: Shape, opts: ConvOptions = {}, op = 'conv2d'): Conv2dGeometry {
  if (xShape.length !== 4 || wShape.length !== 4) {
    throw new Error(`${op}: input must be [N, Cin, H, W] and weight [Cout, Cin/groups, kh, kw], got ${shapeString(xShape)} and ${shapeString(wShape)}`);
  }
  const groups = opts.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1) throw new Error(`${op}: groups must be a positive integer, got ${groups}`);
  const [N, Cin, H, W] = xShape;
  const [Cout, Cig, KH, KW] = wShape;
  if (Cin % groups !== 0 || Cout % groups !== 0 || Cig * groups !== Cin) {
    throw new Error(`${op}: input ${shapeString(xShape)} and weight ${shapeString(wShape)} do not match with groups=${groups} (need Cin = weight.shape[1] * groups and Cout divisible by groups)`);
  }
  const [sh, sw] = pair(op, 'stride', opts.stride, 1, 1);
  const [ph, pw] = pair(op, 'padding', opts.padding, 0, 0);
  const [dh, dw] = pair(op, 'dilation', opts.dilation, 1, 1);
  const OH = Math.floor((H + 2 * ph - dh * (KH - 1) - 1) / sh) + 1;
  const OW = Math.floor((W + 2 * pw - dw * (KW - 1) - 1) / sw) + 1;
  if (KH < 1 || KW < 1 || OH < 1 || OW < 1 || N < 1) {
    throw new Error(`${op}: input ${shapeString(xShape)} is too small for weight ${shapeString(wShape)} (stride ${sh}x${sw}, padding ${ph}x${pw}, dilation ${dh}x${dw})`);
  }
  return { N, Cin, H, W, Cout, KH, KW, OH, OW, sh, sw, ph, pw, dh, dw, groups };
}

// ---------------------------------------------------------------------------------------
// The implicit-GEMM kernel (shaders/conv2d.wgsl), shared by the forward pass and dgrad.

interface GemmDesc {
  M: number; NCOL: number; KCH: number; TH: number; TW: number; GR: number; GC: number;
  SH: number; SW: number; strideH: number; strideW: number; offH: number; offW: number;
  dilH: number; dilW: number; srcImg: number; srcCh: number; srcGroup: number;
  aRow: number; aCh: number; aTH: number; aTW: number; aBase: number; aGroup: number;
  outImg: number; outCh: number; outRow: number; outCol: number; outBase: number; outGroup: number;
  groups: number;
}

function gemmUniforms(d: GemmDesc, epi: number): Uniforms {
  return new Uniforms()
    .u32(d.M).u32(d.NCOL).u32(d.KCH).u32(d.TH)
    .u32(d.TW).u32(d.GR).u32(d.GC).u32(d.SH)
    .u32(d.SW).i32(d.strideH).i32(d.strideW).i32(d.offH)
    .i32(d.offW).i32(d.dilH).i32(d.dilW).u32(d.srcImg)
    .u32(d.srcCh).u32(d.srcGroup).u32(d.aRow).u32(d.aCh)
    .u32(d.aTH).u32(d.aTW).u32(d.aBase).u32(d.aGroup)
    .u32(d.outImg).u32(d.outCh).u32(d.outRow).u32(d.outCol)
    .u32(d.outBase).u32(d.outGroup).u32(16).u32(epi);
}

/**
 * Direct-schedule tile: `rows` output rows x `cgroups` groups of 4 columns per thread, 64
 * threads as `colt` column threads x 64/colt row threads. 16 x 16 per thread measured best on
 * lavapipe (it is load-bound: every load is scalarized per SIMD lane, FMAs are cheap); the
 * automatic choice minimizes the makespan of the padded work over the host's cores.
 */
export interface ConvDirectTile {
  /** Output rows (channels) per thread; with `swap`, output columns (pixels) per thread. */
  rows: number;
  /** Groups of 4 output columns per thread; with `swap`, groups of 4 rows (channels). */
  cgroups: number;
  /** Threads along the vec4 side (1, 2, 4, ..., 64; the other 64/colt threads go along the other). */
  colt: number;
  /**
   * Pixels on the scalar side (forward and input gradient only): a workgroup then covers
   * rows x 64/colt pixels for any `rows`, so that maps like 14x14 at batch 1 need little
   * padding (13 x 16 = 208 pixels for 196).
   */
  swap?: boolean;
}
type DirectTile = ConvDirectTile;

let tileOverride: ConvDirectTile | null = null;

/**
 * Forces the direct schedule's tile (for tuning experiments and for tests that want one
 * compiled variant); `null` restores the automatic choice.
 */
export function setConv2dDirectTile(tile: ConvDirectTile | null): void {
  if (tile && (![1, 2, 4, 8, 16, 32, 64].includes(tile.colt) || !(tile.rows >= 1 && tile.rows <= 32) || !(tile.cgroups >= 1 && tile.cgroups <= 8))) {
    throw new Error(`setConv2dDirectTile: invalid tile ${JSON.stringify(tile)} (rows 1-32, cgroups 1-8, colt 1/2/4/8/16/32/64)`);
  }
  tileOverride = tile ? { ...tile } : null;
}

/** One per-thread shape of the direct schedule, its relative speed and the colt values tried. */
interface TileShape { rows: number; cgroups: number; speed: number; swap: boolean; colts: readonly number[] }

const ALL_COLTS = [64, 32, 16, 8, 4, 2, 1];

// Per-thread shapes and their relative speed on lavapipe, which is load-bound (every load is a
// per-lane scalar loop; FMAs and register spills are cheap), measured on unpadded 3x3 and 1x1
// problems: 16 rows x 16 columns best, 12 columns ~10% and 8 ~25% slower, 4 columns or 8 rows
// about half the speed (24 rows spills into a 5x slowdown). Shorter and narrower tiles still
// win where they waste less (ResNet's last stages at batch 1: 49 output pixels).
// The swapped shape (pixels on the scalar side) is offered with 4 channel threads x 16 pixel
// threads only (64 channels x 208 pixels per workgroup, for 14x14 maps): as fast as 16 x 16
// when unpadded; with 16 or more channel threads (shapes that would fit 7x7 maps) it measured
// 10-25 % slower, which loses to the padded 64-column tile.
const TILE_SHAPES: readonly TileShape[] = [
  ...([[16, 4, 1.0], [16, 3, 0.9], [16, 2, 0.77], [16, 1, 0.52], [8, 4, 0.62], [8, 2, 0.58], [8, 1, 0.46], [4, 1, 0.38]] as const)
    .map(([rows, cgroups, speed]) => ({ rows, cgroups, speed, swap: false, colts: ALL_COLTS })),
  { rows: 13, cgroups: 4, speed: 0.95, swap: true, colts: [4] },
];

function directTile(M: number, NCOL: number, groups: number, maxSplits = 1, allowSwap = false): DirectTile {
  if (tileOverride) return allowSwap || !tileOverride.swap ? tileOverride : { ...tileOverride, swap: false };
  // A CPU adapter runs one workgroup per host thread: the time is the number of waves of
  // `cores` workgroups times one workgroup's (padded) work.
  const cores = Math.max(1, runtime().gpu.hostCores);
  let best: DirectTile = { rows: 16, cgroups: 4, colt: 64 };
  let bestCost = Infinity;
  for (const { rows, cgroups, speed, swap, colts } of TILE_SHAPES) {
    if (swap && !allowSwap) continue;
    for (const colt of colts) {
      const tile = { rows, cgroups, colt, swap };
      const { rowsPerWg: tr, colsPerWg: tc } = tileDims(true, tile);
      const wgs = Math.ceil(M / tr) * Math.ceil(NCOL / tc) * groups * maxSplits;
      // Fewer threads along the columns cost a little (and one, the pointwise path's vec4 loads).
      const colPenalty = 1 + 0.02 * Math.log2(64 / colt) + (colt === 1 ? 0.15 : 0);
      const cost = (Math.ceil(wgs / cores) * tr * tc / speed) * colPenalty;
      if (cost < bestCost) {
        bestCost = cost;
        best = tile;
      }
    }
  }
  return best;
}

function tileDims(direct: boolean, t: DirectTile): { rowsPerWg: number; colsPerWg: number } {
  if (!direct) return { rowsPerWg: 64, colsPerWg: 64 };
  const scalarSide = t.rows * (64 / t.colt);
  const vecSide = 4 * t.cgroups * t.colt;
  return t.swap ? { rowsPerWg: vecSide, colsPerWg: scalarSide } : { rowsPerWg: scalarSide, colsPerWg: vecSide };
}

const TILED_DEFAULTS: DirectTile = { rows: 4, cgroups: 1, colt: 64 };

interface Epi {
  bias?: Tensor | null;
  scale?: Tensor;
  shift?: Tensor;
  residual?: Tensor;
  relu?: boolean;
}

function runGemm(name: string, d: GemmDesc, src: Tensor, weight: Tensor, out: Tensor, strategy: 'tiled' | 'direct', epi: Epi = {}): void {
  const rt = runtime();
  const direct = strategy === 'direct';
  const tile = direct ? directTile(d.M, d.NCOL, d.groups, 1, true) : TILED_DEFAULTS;
  const swap = direct && !!tile.swap;
  // 1x1 taps, stride 1, whole contiguous rows: no bounds checks and vec4 source loads (other
  // 1x1 convolutions take the general path: one shader variant fewer to compile, and its
  // bounds checks are cheap vector ops next to the loads).
  const pointwise = direct && !swap && d.TH === 1 && d.TW === 1 && d.offH === 0 && d.offW === 0 && d.strideH === 1 && d.strideW === 1 &&
    d.GR === d.SH && d.GC === d.SW && (d.SH * d.SW) % 4 === 0 && d.srcImg % 4 === 0 && d.srcGroup % 4 === 0;
  const none = placeholder();
  const buffers = [src.buffer, weight.buffer, out.buffer, (epi.bias ?? none).buffer, (epi.scale ?? none).buffer,
    (epi.shift ?? none).buffer, (epi.residual ?? none).buffer];
  const bits = epilogueBits(epi);
  const subgroup = direct && !swap && shareWeights(tile);
  const defines = {
    TILED: !direct, ROWS: tile.rows, CGROUPS: tile.cgroups, COLT: tile.colt, POINTWISE: pointwise, SWAP: swap,
    NGATHER: swap ? tile.rows : 4 * tile.cgroups, NWEIGHT: swap ? 4 * tile.cgroups : tile.rows,
    KLOOP: unrollTiles() ? 'TK' : 'params.tk', SUBGROUP: subgroup, BROADCAST_FMAS: subgroup ? broadcastFmas(tile.rows) : '',
  };
  const { rowsPerWg, colsPerWg } = tileDims(direct, tile);
  const workgroups: [number, number, number] = [Math.ceil(d.NCOL / colsPerWg), Math.ceil(d.M / rowsPerWg), d.groups];
  checkGrid(name, workgroups);
  const shape = () => `${d.M}x${d.NCOL}x${d.KCH}·${d.TH}x${d.TW}${d.strideH > 1 || d.strideW > 1 ? ` s${d.strideH}` : ''}${d.groups > 1 ? ` g${d.groups}` : ''}`;
  rt.dispatchSource({ name, source: subgroup ? SUBGROUP_SOURCE : convSource, defines }, { uniforms: gemmUniforms(d, bits), buffers, workgroups, shape });
}

const SUBGROUP_SOURCE = `enable subgroups;\n${convSource}`;
const WGRAD_SUBGROUP_SOURCE = `enable subgroups;\n${wgradSource}`;
let convSubgroupEnabled = true;

/**
 * Lets the direct conv schedules share loads of the per-row operand (the weight rows; dy rows
 * in the weight gradient) between the lanes of a subgroup where the device allows (default
 * true; false for comparisons).
 */
export function setConv2dSubgroup(enabled: boolean): void {
  convSubgroupEnabled = enabled;
}

/** Whether a direct tile shares its weight rows across subgroups of 8 lanes (see conv2d.wgsl SUBGROUP). */
function shareWeights(tile: DirectTile): boolean {
  return convSubgroupEnabled && hasSubgroupKernel() && tile.colt % 8 === 0 && tile.rows % 8 === 0;
}

/** conv2d.wgsl's BROADCAST_FMAS: per weight row i, the broadcast from lane i % 8 and its multiply-adds. */
function broadcastFmas(rows: number): string {
  const lines: string[] = [];
  for (let i = 0; i < rows; i++) {
    lines.push(`  { let a = vec4f(subgroupBroadcast(aw[${i >> 3}u], ${i & 7}u)); for (var g = 0u; g < CG; g++) { (*acc)[${i}u * CG + g] = fma(a, b[g], (*acc)[${i}u * CG + g]); } }`);
  }
  return lines.join('\n');
}

/** The epilogue bits of conv2d.wgsl (and conv2d_wino_output.wgsl). */
function epilogueBits(epi: Epi): number {
  return (epi.bias ? 1 : 0) | (epi.scale ? 2 : 0) | (epi.residual ? 4 : 0) | (epi.relu ? 8 : 0);
}

/** Whether tiled kernels unroll their inner loop (not on CPU adapters: compile time). */
function unrollTiles(): boolean {
  return conv2dResolvedStrategy('auto') === 'tiled';
}

function checkGrid(name: string, wg: readonly number[]): void {
  const max = runtime().gpu.limits.maxComputeWorkgroupsPerDimension;
  if (wg.some((v) => v > max)) throw new Error(`${name}: grid ${JSON.stringify(wg)} exceeds ${max} workgroups per dimension (batch too large)`);
}

function resolve(strategy?: ConvStrategy): 'tiled' | 'direct' {
  return conv2dResolvedStrategy(strategy ?? strategySetting);
}

function checkChannelVector(op: string, t: Tensor, C: number, what: string): void {
  checkFloat(op, t);
  if (t.rank !== 1 || t.shape[0] !== C) throw new Error(`${op}: ${what} ${shapeString(t.shape)} must have shape [${C}] (one value per output channel)`);
}

/**
 * Forward convolution without autograd: x [N, Cin, H, W], weight [Cout, Cin/groups, kh, kw],
 * optional bias [Cout] and fused epilogue (see `ConvEpilogue`). Returns [N, Cout, OH, OW].
 */
export function conv2dRaw(x: Tensor, weight: Tensor, bias?: Tensor | null, opts: ConvOptions = {}, epilogue: ConvEpilogue = {}, strategy?: ConvStrategy): Tensor {
  const op = 'conv2d';
  checkFloat(op, x, weight);
  const g = conv2dGeometry(x.shape, weight.shape, opts, op);
  if (bias) checkChannelVector(op, bias, g.Cout, 'bias');
  if (!!epilogue.scale !== !!epilogue.shift) throw new Error(`${op}: the epilogue needs both scale and shift, or neither`);
  if (epilogue.scale) checkChannelVector(op, epilogue.scale, g.Cout, 'epilogue scale');
  if (epilogue.shift) checkChannelVector(op, epilogue.shift, g.Cout, 'epilogue shift');
  const outShape = [g.N, g.Cout, g.OH, g.OW];
  if (epilogue.residual) {
    checkFloat(op, epilogue.residual);
    if (epilogue.residual.shape.join() !== outShape.join()) {
      throw new Error(`${op}: epilogue residual ${shapeString(epilogue.residual.shape)} must have the output shape ${shapeString(outShape)}`);
    }
  }
  const s = resolve(strategy);
  if (pointwiseAsMatmul(g, s)) return pointwiseForward(x, weight, g, { bias, ...epilogue });
  const out = empty(outShape);
  const wino = winogradProblem(g, false);
  const tile = wino && winogradTile(wino, s === 'direct');
  if (wino && tile) {
    winogradConv(x, weight, out, wino, winogradEpilogue({ bias, ...epilogue }), tile);
    return out;
  }
  const Cig = g.Cin / g.groups;
  const Cog = g.Cout / g.groups;
  const taps = g.KH * g.KW;
  const P = g.OH * g.OW;
  runGemm('conv2d', {
    M: Cog, NCOL: g.N * P, KCH: Cig, TH: g.KH, TW: g.KW, GR: g.OH, GC: g.OW, SH: g.H, SW: g.W,
    strideH: g.sh, strideW: g.sw, offH: -g.ph, offW: -g.pw, dilH: g.dh, dilW: g.dw,
    srcImg: g.Cin * g.H * g.W, srcCh: g.H * g.W, srcGroup: Cig * g.H * g.W,
    aRow: Cig * taps, aCh: taps, aTH: g.KW, aTW: 1, aBase: 0, aGroup: Cog * Cig * taps,
    outImg: g.Cout * P, outCh: P, outRow: g.OW, outCol: 1, outBase: 0, outGroup: Cog * P,
    groups: g.groups,
  }, x, weight, out, s, { bias, ...epilogue });
  return out;
}

/** A pass of the convolution: the forward pass or one of the two gradients. */
export type ConvPass = 'forward' | 'gradInput' | 'gradWeight';

/** How a convolution pass is computed (see `conv2dAlgorithm`). */
export type ConvAlgorithm = 'gemm' | 'matmul' | 'winograd-2x2' | 'winograd-4x4';

/**
 * The algorithm a convolution pass runs with: 'winograd-2x2' / 'winograd-4x4' (F(m x m, 3x3),
 * conv2d-winograd.ts), 'matmul' (1x1 unpadded forward on the direct schedule, matmul.ts) or
 * 'gemm' (the implicit GEMM of conv2d.wgsl / conv2d_wgrad.wgsl).
 */
export function conv2dAlgorithm(xShape: Shape, wShape: Shape, opts: ConvOptions = {}, pass: ConvPass = 'forward', strategy?: ConvStrategy): ConvAlgorithm {
  const g = conv2dGeometry(xShape, wShape, opts);
  const s = resolve(strategy);
  if (pass === 'forward' && pointwiseAsMatmul(g, s)) return 'matmul';
  const wino = winogradProblem(g, pass === 'gradInput');
  const tile = wino && winogradTile(wino, s === 'direct');
  return tile === 4 ? 'winograd-4x4' : tile === 2 ? 'winograd-2x2' : 'gemm';
}

/**
 * 1x1 unpadded ungrouped convolutions on the direct schedule run as the matmul kernel with a
 * row epilogue (per image, y[n] = W · x[n] over [Cin, H·W]): measured 10-40 % less CPU time
 * than the direct conv kernel's pointwise variant at ResNet-50 batch-1 shapes. Strided ones
 * (ResNet's downsampling shortcuts) first copy the pixels they read (a pass over a quarter of x).
 */
function pointwiseAsMatmul(g: Conv2dGeometry, s: 'tiled' | 'direct'): boolean {
  return s === 'direct' && g.KH === 1 && g.KW === 1 && g.ph === 0 && g.pw === 0 && g.groups === 1;
}

/**
 * A 1x1 unpadded ungrouped convolution (any stride) as the matmul kernel with the fused
 * epilogue, without autograd, on any schedule: x [N, Cin, H, W], weight [Cout, Cin, 1, 1].
 */
export function conv2dPointwiseRaw(x: Tensor, weight: Tensor, bias?: Tensor | null, opts: ConvOptions = {}, epilogue: ConvEpilogue = {}): Tensor {
  const g = conv2dGeometry(x.shape, weight.shape, opts);
  if (g.KH !== 1 || g.KW !== 1 || g.ph !== 0 || g.pw !== 0 || g.groups !== 1) {
    throw new Error(`conv2d (pointwise): weight ${shapeString(weight.shape)} with ${JSON.stringify(opts)} is not a 1x1 unpadded ungrouped convolution`);
  }
  return pointwiseForward(x, weight, g, { bias, ...epilogue });
}

function pointwiseForward(x: Tensor, weight: Tensor, g: Conv2dGeometry, epi: Epi): Tensor {
  const P = g.OH * g.OW;
  const src = g.sh === 1 && g.sw === 1 ? x : subsample(x, g);
  const views = [weight.view([g.Cout, g.Cin]), src.view([g.N, g.Cin, P])];
  if (src !== x) src.dispose();
  const residual = epi.residual?.view([g.N, g.Cout, P]);
  const y = matmulRaw(views[0], views[1], false, false, undefined, {
    epilogue: { rowBias: epi.bias, rowScale: epi.scale, rowShift: epi.shift, residual, relu: epi.relu },
  });
  const out = y.view([g.N, g.Cout, g.OH, g.OW]);
  for (const t of [...views, y, residual]) t?.dispose();
  return out;
}

/** x[:, :, ::sh, ::sw] as a dense [N, Cin, OH, OW] tensor (the pixels a strided 1x1 conv reads). */
function subsample(x: Tensor, g: Conv2dGeometry): Tensor {
  const shape = [g.N, g.Cin, g.OH, g.OW];
  const out = empty(shape);
  mapStrided({ op: 'x', shape, a: x, aLayout: { offset: 0, strides: [g.Cin * g.H * g.W, g.H * g.W, g.sh * g.W, g.sw] }, out });
  return out;
}

/**
 * The convolution as a Winograd F(2x2, 3x3) problem, if it is one: 3x3, stride 1, no
 * dilation, one group, padding at most 2 (the input gradient then pads by 2 − p).
 * `gradInput`: the problem of the input gradient (dy → dx) instead of the forward pass.
 */
function winogradProblem(g: Conv2dGeometry, gradInput: boolean): WinogradProblem | null {
  const fits = g.KH === 3 && g.KW === 3 && g.sh === 1 && g.sw === 1 && g.dh === 1 && g.dw === 1 && g.groups === 1 && g.ph <= 2 && g.pw <= 2;
  if (!fits) return null;
  return gradInput
    ? { N: g.N, C: g.Cout, H: g.OH, W: g.OW, R: g.Cin, OH: g.H, OW: g.W, padH: 2 - g.ph, padW: 2 - g.pw, flip: true }
    : { N: g.N, C: g.Cin, H: g.H, W: g.W, R: g.Cout, OH: g.OH, OW: g.OW, padH: g.ph, padW: g.pw, flip: false };
}

function winogradEpilogue(epi: Epi) {
  const none = placeholder();
  return {
    bits: epilogueBits(epi),
    bias: epi.bias ?? none, scale: epi.scale ?? none, shift: epi.shift ?? none, residual: epi.residual ?? none,
  };
}

/** Taps of one kernel axis met by the pixels of stride phase `phase` (an arithmetic progression). */
function phaseTaps(phase: number, pad: number, k: number, s: number, d: number): { first: number; step: number; count: number; c0: number; e: number } {
  const valid: number[] = [];
  for (let t = 0; t < k; t++) if ((((phase + pad - t * d) % s) + s) % s === 0) valid.push(t);
  if (valid.length === 0) return { first: 0, step: 1, count: 0, c0: 0, e: 0 };
  const step = valid.length > 1 ? valid[1] - valid[0] : 1;
  const first = valid[0];
  // o = (i*s + phase + pad - t*d) / s = i + c0 - e*j for tap t = first + step*j.
  return { first, step, count: valid.length, c0: (phase + pad - first * d) / s, e: (step * d) / s };
}

type PhaseTaps = ReturnType<typeof phaseTaps>;

/** out[g, ci, co, th, tw] = w[g*Cog + co, ci, kh0 + th*khStep, kw0 + tw*kwStep] (conv2d_wphase.wgsl). */
function phaseWeights(weight: Tensor, g: Conv2dGeometry, th: PhaseTaps, tw: PhaseTaps): Tensor {
  const Cig = g.Cin / g.groups;
  const Cog = g.Cout / g.groups;
  const out = empty([g.groups, Cig, Cog, th.count, tw.count]);
  const rt = runtime();
  rt.dispatchSource({ name: 'conv2d_wphase', source: wphaseSource }, {
    uniforms: new Uniforms().u32(out.size).u32(Cig).u32(Cog).u32(th.count)
      .u32(tw.count).u32(g.KH).u32(g.KW).u32(th.first)
      .u32(tw.first).u32(th.step).u32(tw.step).u32(0),
    buffers: [weight.buffer, out.buffer],
    workgroups: rt.grid(Math.ceil(out.size / 256)),
  });
  return out;
}

/**
 * Gradient of the convolution with respect to its input: dy [N, Cout, OH, OW] and weight →
 * dx of shape `inputShape` [N, Cin, H, W]. One implicit GEMM per stride phase.
 */
export function conv2dGradInput(dy: Tensor, weight: Tensor, inputShape: Shape, opts: ConvOptions = {}, strategy?: ConvStrategy): Tensor {
  const op = 'conv2dGradInput';
  checkFloat(op, dy, weight);
  const g = conv2dGeometry(inputShape, weight.shape, opts, op);
  const dyShape = [g.N, g.Cout, g.OH, g.OW];
  if (dy.shape.join() !== dyShape.join()) throw new Error(`${op}: output gradient ${shapeString(dy.shape)} must have shape ${shapeString(dyShape)}`);
  const dx = empty([g.N, g.Cin, g.H, g.W]);
  const s = resolve(strategy);
  const wino = winogradProblem(g, true);
  const tile = wino && winogradTile(wino, s === 'direct');
  if (wino && tile) {
    winogradConv(dy, weight, dx, wino, winogradEpilogue({}), tile);
    return dx;
  }
  const Cig = g.Cin / g.groups;
  const Cog = g.Cout / g.groups;
  for (let ph = 0; ph < Math.min(g.sh, g.H); ph++) {
    for (let pw = 0; pw < Math.min(g.sw, g.W); pw++) {
      const hp = Math.ceil((g.H - ph) / g.sh);
      const wp = Math.ceil((g.W - pw) / g.sw);
      const th = phaseTaps(ph, g.ph, g.KH, g.sh, g.dh);
      const tw = phaseTaps(pw, g.pw, g.KW, g.sw, g.dw);
      const none = th.count === 0 || tw.count === 0;
      const THp = Math.max(th.count, 1);
      const TWp = Math.max(tw.count, 1);
      // Tiled schedule: the phase's taps of the weight re-laid out as [group, ci, co, th, tw]
      // (A contiguous along k: coalesced tile loads). The direct schedule reads the weight in
      // place (its loads cost the same at any stride).
      const relayout = !none && s === 'tiled';
      const wp_ = relayout ? phaseWeights(weight, g, th, tw) : weight;
      const kp = THp * TWp;
      const taps = g.KH * g.KW;
      runGemm('conv2d', {
        M: Cig, NCOL: g.N * hp * wp, KCH: none ? 0 : Cog, TH: THp, TW: TWp, GR: hp, GC: wp,
        SH: g.OH, SW: g.OW, strideH: 1, strideW: 1, offH: th.c0, offW: tw.c0, dilH: -th.e, dilW: -tw.e,
        srcImg: g.Cout * g.OH * g.OW, srcCh: g.OH * g.OW, srcGroup: Cog * g.OH * g.OW,
        ...(relayout
          ? { aRow: Cog * kp, aCh: kp, aTH: TWp, aTW: 1, aBase: 0, aGroup: Cig * Cog * kp }
          : { aRow: taps, aCh: Cig * taps, aTH: th.step * g.KW, aTW: tw.step, aBase: th.first * g.KW + tw.first, aGroup: Cog * Cig * taps }),
        outImg: g.Cin * g.H * g.W, outCh: g.H * g.W, outRow: g.sh * g.W, outCol: g.sw, outBase: ph * g.W + pw, outGroup: Cig * g.H * g.W,
        groups: g.groups,
      }, dy, wp_, dx, s);
      if (wp_ !== weight) wp_.dispose();
    }
  }
  return dx;
}

/** Partial-sum buffers above this size make split-K use fewer chunks. */
const MAX_PARTIAL_BYTES = 64 * 2 ** 20;

/**
 * Gradient of the convolution with respect to its weight: dy [N, Cout, OH, OW] and the input
 * x → dW of shape `weightShape` [Cout, Cin/groups, kh, kw] (split-K over N·OH·OW).
 */
export function conv2dGradWeight(dy: Tensor, x: Tensor, weightShape: Shape, opts: ConvOptions = {}, strategy?: ConvStrategy): Tensor {
  const op = 'conv2dGradWeight';
  checkFloat(op, dy, x);
  const g = conv2dGeometry(x.shape, weightShape, opts, op);
  const dyShape = [g.N, g.Cout, g.OH, g.OW];
  if (dy.shape.join() !== dyShape.join()) throw new Error(`${op}: output gradient ${shapeString(dy.shape)} must have shape ${shapeString(dyShape)}`);
  const rt = runtime();
  const s = resolve(strategy);
  const direct = s === 'direct';
  const wino = winogradProblem(g, false);
  const wtile = wino && winogradTile(wino, direct);
  if (wino && wtile) {
    const dw = empty([g.Cout, g.Cin, 3, 3]);
    winogradGradWeight(x, dy, dw, wino, wtile);
    return dw;
  }
  const Cig = g.Cin / g.groups;
  const Cog = g.Cout / g.groups;
  const M = Cog;
  const NCOL = Cig * g.KH * g.KW;
  const P = g.OH * g.OW;
  const RTOT = g.N * P;
  const tile = direct ? directTile(M, NCOL, g.groups, Math.max(1, Math.floor(RTOT / 512))) : TILED_DEFAULTS;
  const { rowsPerWg, colsPerWg } = tileDims(direct, tile);
  const rowBlocks = Math.ceil(M / rowsPerWg);
  const tiles = rowBlocks * Math.ceil(NCOL / colsPerWg) * g.groups;
  // Split-K: enough workgroups to fill the device, each chunk long enough to amortize its
  // partial-sum write, and a bounded partial buffer.
  const wanted = direct ? 32 : 512;
  const minChunk = direct ? 512 : 256;
  const size = g.Cout * NCOL;
  let splits = Math.max(1, Math.min(Math.ceil(wanted / tiles), Math.floor(RTOT / minChunk), Math.floor(MAX_PARTIAL_BYTES / (4 * size))));
  let rPerSplit = Math.ceil(Math.ceil(RTOT / splits) / 4) * 4;
  splits = Math.ceil(RTOT / rPerSplit);
  if (splits === 1) rPerSplit = RTOT;
  const dw = empty([g.Cout, Cig, g.KH, g.KW]);
  const part = splits > 1 ? empty([splits * size]) : dw;
  const u = new Uniforms()
    .u32(M).u32(NCOL).u32(g.KH).u32(g.KW)
    .u32(g.H).u32(g.W).u32(g.OH).u32(g.OW)
    .i32(g.sh).i32(g.sw).i32(g.ph).i32(g.pw)
    .i32(g.dh).i32(g.dw).u32(rPerSplit).u32(RTOT)
    .u32(g.Cin * g.H * g.W).u32(g.Cout * P).u32(Cig * g.H * g.W).u32(Cog * P)
    .u32(size).u32(M * NCOL).u32(rowBlocks).u32(16);
  const workgroups: [number, number, number] = [Math.ceil(NCOL / colsPerWg), rowBlocks * g.groups, splits];
  checkGrid('conv2d_wgrad', workgroups);
  const subgroup = direct && shareWeights(tile);
  const defines = {
    TILED: !direct, ROWS: tile.rows, CGROUPS: tile.cgroups, COLT: tile.colt, KLOOP: unrollTiles() ? 'TK' : 'params.tk',
    SUBGROUP: subgroup, BROADCAST_FMAS: subgroup ? broadcastFmas(tile.rows) : '',
  };
  rt.dispatchSource(
    { name: 'conv2d_wgrad', source: subgroup ? WGRAD_SUBGROUP_SOURCE : wgradSource, defines },
    { uniforms: u, buffers: [x.buffer, dy.buffer, part.buffer], workgroups, shape: () => `${M}x${NCOL}x${RTOT} ${g.KH}x${g.KW}${g.sh > 1 ? ` s${g.sh}` : ''} split ${splits}` },
  );
  if (splits > 1) {
    rt.dispatchSource(
      { name: 'conv2d_reduce', source: reduceSource },
      { uniforms: new Uniforms().u32(size).u32(splits).u32(0).u32(0), buffers: [part.buffer, dw.buffer], workgroups: rt.grid(Math.ceil(size / 256)) },
    );
    part.dispose();
  }
  return dw;
}

function revive(storage: Storage, shape: Shape): Tensor {
  storage.retain();
  return new Tensor(storage, shape, 'f32');
}

/**
 * 2-D convolution with autograd (PyTorch semantics): x [N, Cin, H, W], weight
 * [Cout, Cin/groups, kh, kw], optional bias [Cout] → [N, Cout, OH, OW]. Backward gives
 * dx (`conv2dGradInput`), dweight (`conv2dGradWeight`) and dbias (Σ dy over N, H, W), each
 * only when needed.
 */
export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor | null, opts: ConvOptions = {}): Tensor {
  const out = conv2dRaw(x, weight, bias, opts);
  const inputs = bias ? [x, weight, bias] : [x, weight];
  // The tape keeps x's and weight's storage alive; re-wrap it in the rule so that the caller
  // may dispose its tensors before backward().
  const xs = x.liveStorage('conv2d');
  const ws = weight.liveStorage('conv2d');
  const xShape = [...x.shape];
  const wShape = [...weight.shape];
  record('conv2d', inputs, [out], ([gy], needs) => {
    const xr = needs[1] ? revive(xs, xShape) : null;
    const wr = needs[0] ? revive(ws, wShape) : null;
    const grads = [
      wr ? conv2dGradInput(gy!, wr, xShape, opts) : null,
      xr ? conv2dGradWeight(gy!, xr, wShape, opts) : null,
      ...(bias ? [needs[2] ? sum(gy!, [0, 2, 3]) : null] : []),
    ];
    xr?.dispose();
    wr?.dispose();
    return grads;
  }, [x, weight]);
  return out;
}
