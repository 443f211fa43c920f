/**
 * Kernel `conv2d/gemm`: the convolution as an implicit GEMM (no im2col buffer), for the forward
 * pass and each stride phase of the input gradient; raw launchers (no autograd).
 *
 *   forward  Y[co, col]  = Σ_k W[co, k] · X̂[k, col]          M = Cout, N = N·OH·OW, K = Cin·kh·kw
 *            W is the weight tensor read as the row-major [Cout, K] matrix it already is
 *            (k = (ci·kh + i)·kw + j), X̂[k, (n, oh, ow)] = x[n, ci, oh·s − p + i·d, ow·s − p + j·d]
 *            (zero outside the image), gathered on the fly; Y[co, (n, oh, ow)] is y[n, co, oh, ow].
 *   dgrad    dX[ci, col] = Σ_k Wᵀ[ci, k] · dŶ[k, col]           M = Cin, N = N·H·W, K = Cout·kh·kw
 *            run once per stride phase (ih mod s, iw mod s): a phase only meets the taps with
 *            (ih + p − i·d) ≡ 0 (mod s), so K shrinks to Cout·⌈kh/s⌉·⌈kw/s⌉ and no multiply is
 *            wasted on the zeros of the strided transposed convolution (stride 2, odd sizes
 *            included); dŶ reads dy[n, co, (ih + p − i·d)/s, ...] with bounds checks. On the
 *            tiled schedule Wᵀ for the phase is first copied to [groups, Cin/g, Cout/g, taps]
 *            (wphase.ts, a weight-sized pass) so that A is contiguous along k like the forward weight.
 *
 * 1x1 stride-1 convolutions on the direct schedule need no im2col at all: B is x itself
 * ([Cin, H·W] per image), read as vec4 without bounds checks (the POINTWISE variant).
 * The direct kernel also has a swapped form (pixels on the per-thread scalar side, channels on
 * the vec4 side) whose pixel tile can be any multiple of 64/colt, for the small maps of batch-1
 * inference (14x14); `directTile` picks the form and shape.
 *
 * Half precision (inference): source, weight, output and residual all f16 (HALF), loads
 * converted to f32, f32 accumulation; the bias and folded batchnorm stay f32.
 */
import source from '../../../../shaders/conv2d/gemm.wgsl';
import { defineKernel } from '../../kernel.js';
import type { Tensor } from '../../tensor.js';
import type { Conv2dGeometry } from './geometry.js';
import { epilogueBindingSpecs, epilogueBindings, epilogueBits, type Epi } from './epilogue.js';
import { directTile, tileDims, TILED_DEFAULTS, shareWeights, broadcastFmas, unrollTiles, checkGrid, type ConvSchedule } from './schedule.js';
import { phaseWeights } from './wphase.js';

export const gemmKernel = defineKernel({
  name: 'conv2d/gemm',
  source,
  uniforms: {
    M: 'u32', NCOL: 'u32', KCH: 'u32', TH: 'u32',
    TW: 'u32', GR: 'u32', GC: 'u32', SH: 'u32',
    SW: 'u32', strideH: 'i32', strideW: 'i32', offH: 'i32',
    offW: 'i32', dilH: 'i32', dilW: 'i32', srcImg: 'u32',
    srcCh: 'u32', srcGroup: 'u32', aRow: 'u32', aCh: 'u32',
    aTH: 'u32', aTW: 'u32', aBase: 'u32', aGroup: 'u32',
    outImg: 'u32', outCh: 'u32', outRow: 'u32', outCol: 'u32',
    outBase: 'u32', outGroup: 'u32', tk: 'u32', epi: 'u32',
  },
  bindings: [
    { name: 'X', type: '${ACT4}', access: 'read', when: 'POINTWISE' },
    { name: 'X', type: '${ACT}', access: 'read', unless: 'POINTWISE' },
    { name: 'Wt', type: '${ACT}', access: 'read' },
    { name: 'Y', type: '${ACT}', access: 'read_write' },
    ...epilogueBindingSpecs('${ACT}'),
  ],
  workgroupSize: (d) => (d.TILED ? 256 : 64),
  snippets: ['convEpilogue'],
  enables: { SUBGROUP: 'subgroups', HALF: 'f16' },
});

/** The storage defines of the operands: all f32, or all f16 (half-precision inference). */
function activationDefines(src: Tensor, weight: Tensor, out: Tensor): { HALF: boolean; ACT: string; ACT4: string } {
  const half = src.dtype === 'f16';
  if (weight.dtype !== src.dtype || out.dtype !== src.dtype) {
    throw new Error(`conv2d: input, weight and output must have one dtype, got ${src.dtype}, ${weight.dtype} and ${out.dtype}`);
  }
  return { HALF: half, ACT: half ? 'f16' : 'f32', ACT4: half ? 'vec4<f16>' : 'vec4f' };
}

/** One GEMM of the kernel: sizes, the source gather, the weight (A) and output addressing (see gemm.wgsl). */
export interface GemmDesc {
  M: number; NCOL: number; KCH: number; TH: number; TW: number; GR: number; GC: number;
  SH: number; SW: number; strideH: number; strideW: number; offH: number; offW: number;
  dilH: number; dilW: number; srcImg: number; srcCh: number; srcGroup: number;
  aRow: number; aCh: number; aTH: number; aTW: number; aBase: number; aGroup: number;
  outImg: number; outCh: number; outRow: number; outCol: number; outBase: number; outGroup: number;
  groups: number;
}

/** Dispatches one implicit GEMM into `out`. */
export function gemm(d: GemmDesc, src: Tensor, weight: Tensor, out: Tensor, schedule: ConvSchedule, epi: Epi = {}): void {
  const direct = schedule === 'direct';
  const tile = direct ? directTile(d.M, d.NCOL, d.groups, 1, true) : TILED_DEFAULTS;
  const swap = direct && !!tile.swap;
  // 1x1 taps, stride 1, whole contiguous rows: no bounds checks and vec4 source loads (other
  // 1x1 convolutions take the general path: one shader variant fewer to compile, and its
  // bounds checks are cheap vector ops next to the loads).
  const pointwise = direct && !swap && d.TH === 1 && d.TW === 1 && d.offH === 0 && d.offW === 0 && d.strideH === 1 && d.strideW === 1 &&
    d.GR === d.SH && d.GC === d.SW && (d.SH * d.SW) % 4 === 0 && d.srcImg % 4 === 0 && d.srcGroup % 4 === 0;
  const subgroup = direct && !swap && shareWeights(tile);
  const defines = {
    TILED: !direct, ROWS: tile.rows, CGROUPS: tile.cgroups, COLT: tile.colt, POINTWISE: pointwise, SWAP: swap,
    NGATHER: swap ? tile.rows : 4 * tile.cgroups, NWEIGHT: swap ? 4 * tile.cgroups : tile.rows,
    KLOOP: unrollTiles() ? 'TK' : 'params.tk', SUBGROUP: subgroup, BROADCAST_FMAS: subgroup ? broadcastFmas(tile.rows) : '',
    ...activationDefines(src, weight, out),
  };
  const { rowsPerWg, colsPerWg } = tileDims(direct, tile);
  const workgroups: [number, number, number] = [Math.ceil(d.NCOL / colsPerWg), Math.ceil(d.M / rowsPerWg), d.groups];
  checkGrid('conv2d', workgroups);
  const { groups: _, ...uniforms } = d;
  gemmKernel.dispatch({
    defines,
    uniforms: { ...uniforms, tk: 16, epi: epilogueBits(epi) },
    bindings: { X: src, Wt: weight, Y: out, ...epilogueBindings(epi) },
    workgroups,
    shape: () => `${d.M}x${d.NCOL}x${d.KCH}·${d.TH}x${d.TW}${d.strideH > 1 || d.strideW > 1 ? ` s${d.strideH}` : ''}${d.groups > 1 ? ` g${d.groups}` : ''}${defines.HALF ? ' f16' : ''}`,
  });
}

/** The forward convolution x → out [N, Cout, OH, OW] with the fused epilogue. */
export function gemmForward(x: Tensor, weight: Tensor, out: Tensor, g: Conv2dGeometry, schedule: ConvSchedule, epi: Epi): void {
  const Cig = g.Cin / g.groups;
  const Cog = g.Cout / g.groups;
  const taps = g.KH * g.KW;
  const P = g.OH * g.OW;
  gemm({
    M: Cog, NCOL: g.N * P, KCH: Cig, TH: g.KH, TW: g.KW, GR: g.OH, GC: g.OW, SH: g.H, SW: g.W,
    strideH: g.sh, strideW: g.sw, offH: -g.ph, offW: -g.pw, dilH: g.dh, dilW: g.dw,
    srcImg: g.Cin * g.H * g.W, srcCh: g.H * g.W, srcGroup: Cig * g.H * g.W,
    aRow: Cig * taps, aCh: taps, aTH: g.KW, aTW: 1, aBase: 0, aGroup: Cog * Cig * taps,
    outImg: g.Cout * P, outCh: P, outRow: g.OW, outCol: 1, outBase: 0, outGroup: Cog * P,
    groups: g.groups,
  }, x, weight, out, schedule, epi);
}

/** Taps of one kernel axis met by the pixels of stride phase `phase` (an arithmetic progression). */
export function phaseTaps(phase: number, pad: number, k: number, s: number, d: number): PhaseTaps {
  const valid: number[] = [];
  for (let t = 0; t < k; t++) if ((((phase + pad - t * d) % s) + s) % s === 0) valid.push(t);
  if (valid.length === 0) return { first: 0, step: 1, count: 0, c0: 0, e: 0 };
  const step = valid.length > 1 ? valid[1] - valid[0] : 1;
  const first = valid[0];
  // o = (i*s + phase + pad - t*d) / s = i + c0 - e*j for tap t = first + step*j.
  return { first, step, count: valid.length, c0: (phase + pad - first * d) / s, e: (step * d) / s };
}

export interface PhaseTaps { first: number; step: number; count: number; c0: number; e: number }

/** The input gradient dy → dx [N, Cin, H, W]: one implicit GEMM per stride phase. */
export function gemmGradInput(dy: Tensor, weight: Tensor, dx: Tensor, g: Conv2dGeometry, schedule: ConvSchedule): void {
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
      const relayout = !none && schedule === 'tiled';
      const wp_ = relayout ? phaseWeights(weight, g, th, tw) : weight;
      const kp = THp * TWp;
      const taps = g.KH * g.KW;
      gemm({
        M: Cig, NCOL: g.N * hp * wp, KCH: none ? 0 : Cog, TH: THp, TW: TWp, GR: hp, GC: wp,
        SH: g.OH, SW: g.OW, strideH: 1, strideW: 1, offH: th.c0, offW: tw.c0, dilH: -th.e, dilW: -tw.e,
        srcImg: g.Cout * g.OH * g.OW, srcCh: g.OH * g.OW, srcGroup: Cog * g.OH * g.OW,
        ...(relayout
          ? { aRow: Cog * kp, aCh: kp, aTH: TWp, aTW: 1, aBase: 0, aGroup: Cig * Cog * kp }
          : { aRow: taps, aCh: Cig * taps, aTH: th.step * g.KW, aTW: tw.step, aBase: th.first * g.KW + tw.first, aGroup: Cog * Cig * taps }),
        outImg: g.Cin * g.H * g.W, outCh: g.H * g.W, outRow: g.sh * g.W, outCol: g.sw, outBase: ph * g.W + pw, outGroup: Cig * g.H * g.W,
        groups: g.groups,
      }, dy, wp_, dx, schedule);
      if (wp_ !== weight) wp_.dispose();
    }
  }
}
