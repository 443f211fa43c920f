/**
 * Kernel `conv2d/depthwise_wgrad`: the weight gradient of the depthwise convolution and of
 * grouped convolutions with few channels per group, a per-weight-row reduction over N·OH·OW
 * (see depthwise_wgrad.wgsl): `chunks` threads per (output channel, its group's input channel,
 * kernel row) with interleaved positions write partial sums, one reduce pass adds them. No
 * atomics, no barriers. Raw launcher (no autograd).
 */
import source from '../../../../shaders/conv2d/depthwise_wgrad.wgsl';
import { defineKernel } from '../../kernel.js';
import { runtime } from '../../runtime.js';
import { empty, type Tensor } from '../../tensor.js';
import { reduceSum } from '../reduce/sum.js';
import type { Conv2dGeometry } from './geometry.js';
import { depthwiseDefines } from './depthwise.js';

const WORKGROUP = 64;
/**
 * Positions per thread at least: fewer, and the partial sums (one [Cout, kh, kw] slice per
 * chunk) and their reduction cost more than the parallelism gains.
 */
const MIN_PER_THREAD = 64;
/** At most this many threads per (channel, kernel row): beyond it the grid is wide enough on any GPU. */
const MAX_CHUNKS = 256;

export const depthwiseWgradKernel = defineKernel({
  name: 'conv2d/depthwise_wgrad',
  source,
  uniforms: {
    total: 'u32', chunks: 'u32', N: 'u32', C: 'u32', Cin: 'u32', cig: 'u32', cog: 'u32', H: 'u32', W: 'u32',
    OH: 'u32', OW: 'u32', ph: 'i32', pw: 'i32',
  },
  bindings: [
    { name: 'DY', type: 'f32', access: 'read' },
    { name: 'X', type: 'f32', access: 'read' },
    { name: 'GW', type: 'f32', access: 'read_write' },
  ],
  workgroupSize: WORKGROUP,
});

/** The weight gradient dW [Cout, Cin/groups, KH, KW] of the depthwise or grouped convolution `g` from dy and x. */
export function depthwiseGradWeight(dy: Tensor, x: Tensor, g: Conv2dGeometry): Tensor {
  const P = g.N * g.OH * g.OW;
  const cig = g.Cin / g.groups;
  const chunks = Math.max(1, Math.min(MAX_CHUNKS, Math.floor(P / MIN_PER_THREAD)));
  const total = g.Cout * cig * g.KH * chunks;
  const wShape = [g.Cout, cig, g.KH, g.KW];
  const partial = empty(chunks > 1 ? [chunks, ...wShape] : wShape);
  depthwiseWgradKernel.dispatch({
    defines: depthwiseDefines(g),
    uniforms: {
      total, chunks, N: g.N, C: g.Cout, Cin: g.Cin, cig, cog: g.Cout / g.groups, H: g.H, W: g.W,
      OH: g.OH, OW: g.OW, ph: g.ph, pw: g.pw,
    },
    bindings: { DY: dy, X: x, GW: partial },
    workgroups: runtime().grid(Math.ceil(total / WORKGROUP)),
    shape: () => `${g.Cout}x${g.KH}x${g.KW} over ${P}${chunks > 1 ? ` in ${chunks}` : ''}`,
  });
  if (chunks === 1) return partial;
  const dw = reduceSum(partial, [0]);
  partial.dispose();
  return dw;
}
