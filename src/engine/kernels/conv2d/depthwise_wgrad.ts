/**
 * Kernel `conv2d/depthwise_wgrad`: the weight gradient of the depthwise convolution, a
 * per-channel reduction over N·OH·OW (see depthwise_wgrad.wgsl): one workgroup per
 * (channel, kernel row, chunk of positions), a tree in workgroup memory, no atomics. Raw
 * launcher (no autograd).
 */
import source from '../../../../shaders/conv2d/depthwise_wgrad.wgsl';
import { defineKernel } from '../../kernel.js';
import { checkGrid } from './schedule.js';
import { empty, type Tensor } from '../../tensor.js';
import { reduceSum } from '../reduce/sum.js';
import type { Conv2dGeometry } from './geometry.js';
import { depthwiseDefines } from './depthwise.js';

const WORKGROUP = 64;
/**
 * Positions per workgroup at least: below this the partial sums (one [Cout, kh, kw] slice per
 * chunk) and their reduction cost more than the parallelism gains.
 */
const MIN_CHUNK = 2048;
/** At most this many chunks: beyond it the grid is wide enough on any GPU. */
const MAX_CHUNKS = 64;

export const depthwiseWgradKernel = defineKernel({
  name: 'conv2d/depthwise_wgrad',
  source,
  uniforms: {
    N: 'u32', C: 'u32', Cin: 'u32', mult: 'u32', H: 'u32', W: 'u32', OH: 'u32', OW: 'u32',
    ph: 'i32', pw: 'i32', perChunk: 'u32',
  },
  bindings: [
    { name: 'DY', type: 'f32', access: 'read' },
    { name: 'X', type: 'f32', access: 'read' },
    { name: 'GW', type: 'f32', access: 'read_write' },
  ],
  workgroupSize: WORKGROUP,
});

/** The weight gradient dW [Cout, 1, KH, KW] of the depthwise convolution `g` from dy and x. */
export function depthwiseGradWeight(dy: Tensor, x: Tensor, g: Conv2dGeometry): Tensor {
  const P = g.N * g.OH * g.OW;
  const chunks = Math.max(1, Math.min(MAX_CHUNKS, Math.floor(P / MIN_CHUNK)));
  const perChunk = Math.ceil(P / chunks);
  const workgroups: [number, number, number] = [g.Cout * g.KH, chunks, 1];
  checkGrid('conv2d depthwise weight gradient', workgroups);
  const partial = empty(chunks > 1 ? [chunks, g.Cout, 1, g.KH, g.KW] : [g.Cout, 1, g.KH, g.KW]);
  depthwiseWgradKernel.dispatch({
    defines: depthwiseDefines(g),
    uniforms: {
      N: g.N, C: g.Cout, Cin: g.Cin, mult: g.Cout / g.Cin, H: g.H, W: g.W, OH: g.OH, OW: g.OW,
      ph: g.ph, pw: g.pw, perChunk,
    },
    bindings: { DY: dy, X: x, GW: partial },
    workgroups,
    shape: () => `${g.Cout}x${g.KH}x${g.KW} over ${P}${chunks > 1 ? ` in ${chunks}` : ''}`,
  });
  if (chunks === 1) return partial;
  const dw = reduceSum(partial, [0]);
  partial.dispose();
  return dw;
}
