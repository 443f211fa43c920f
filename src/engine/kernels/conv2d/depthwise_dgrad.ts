/**
 * Kernel `conv2d/depthwise_dgrad`: the input gradient of the depthwise convolution. Stride 1
 * with one output channel per input channel is the forward kernel on dy with the weight rotated
 * by 180° and padding (k − 1)·d − p; other strides and multipliers run depthwise_dgrad.wgsl
 * (each thread: OPT inputs of one stride phase, the taps that meet them picked by phase). Raw
 * launchers (no autograd).
 */
import source from '../../../../shaders/conv2d/depthwise_dgrad.wgsl';
import { defineKernel } from '../../kernel.js';
import { runtime } from '../../runtime.js';
import type { Tensor } from '../../tensor.js';
import type { Conv2dGeometry } from './geometry.js';
import { DEPTHWISE_OPT, depthwiseDefines, depthwiseSweep } from './depthwise.js';

const WORKGROUP = 64;

export const depthwiseDgradKernel = defineKernel({
  name: 'conv2d/depthwise_dgrad',
  source,
  uniforms: {
    total: 'u32', strips: 'u32', C: 'u32', Cin: 'u32', mult: 'u32',
    H: 'u32', W: 'u32', OH: 'u32', OW: 'u32', ph: 'i32', pw: 'i32',
  },
  bindings: [
    { name: 'DY', type: 'f32', access: 'read' },
    { name: 'Wt', type: 'f32', access: 'read' },
    { name: 'DX', type: 'f32', access: 'read_write' },
  ],
  workgroupSize: WORKGROUP,
});

/** The input gradient dy [N, Cout, OH, OW] → dx [N, Cin, H, W] of the depthwise convolution `g`. */
export function depthwiseGradInput(dy: Tensor, weight: Tensor, dx: Tensor, g: Conv2dGeometry): void {
  if (g.sh === 1 && g.sw === 1 && g.Cout === g.Cin) {
    // the transposed stride-1 convolution is a correlation with the rotated kernel
    const flipped: Conv2dGeometry = {
      ...g, H: g.OH, W: g.OW, OH: g.H, OW: g.W,
      ph: (g.KH - 1) * g.dh - g.ph, pw: (g.KW - 1) * g.dw - g.pw,
    };
    depthwiseSweep(dy, weight, dx, flipped, true);
    return;
  }
  const strips = Math.ceil(g.W / (DEPTHWISE_OPT * g.sw)) * g.sw;
  const total = g.N * g.Cin * g.H * strips;
  depthwiseDgradKernel.dispatch({
    defines: depthwiseDefines(g),
    uniforms: {
      total, strips, C: g.Cout, Cin: g.Cin, mult: g.Cout / g.Cin,
      H: g.H, W: g.W, OH: g.OH, OW: g.OW, ph: g.ph, pw: g.pw,
    },
    bindings: { DY: dy, Wt: weight, DX: dx },
    workgroups: runtime().grid(Math.ceil(total / WORKGROUP)),
    shape: () => `${g.N}x${g.Cin}x${g.H}x${g.W} k${g.KH}x${g.KW} s${g.sh}`,
  });
}
