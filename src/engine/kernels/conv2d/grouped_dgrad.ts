/**
 * Kernel `conv2d/grouped_dgrad`: the input gradient of the strided grouped convolution with
 * narrow groups (see grouped_dgrad.wgsl: each thread OPT inputs of one stride phase for COB
 * input channels of one group, the phase varying slowest over the grid). Stride 1 is grouped.ts's transposed sweep. Raw launcher (no
 * autograd); the algorithm choice is in algorithm.ts.
 */
import source from '../../../../shaders/conv2d/grouped_dgrad.wgsl';
import { defineKernel } from '../../kernel.js';
import { runtime } from '../../runtime.js';
import type { Tensor } from '../../tensor.js';
import type { Conv2dGeometry } from './geometry.js';
import { depthwiseOpt, depthwiseDefines } from './depthwise.js';
import { groupedBlock } from './grouped.js';

const WORKGROUP = 64;

export const groupedDgradKernel = defineKernel({
  name: 'conv2d/grouped_dgrad',
  source,
  uniforms: {
    total: 'u32', strips: 'u32', rows: 'u32', blocks: 'u32', N: 'u32', C: 'u32', Cin: 'u32', inG: 'u32', outG: 'u32',
    H: 'u32', W: 'u32', OH: 'u32', OW: 'u32', ph: 'i32', pw: 'i32',
  },
  bindings: [
    { name: 'DY', type: 'f32', access: 'read' },
    { name: 'Wt', type: 'f32', access: 'read' },
    { name: 'DX', type: 'f32', access: 'read_write' },
  ],
  workgroupSize: WORKGROUP,
});

/** The input gradient dy [N, Cout, OH, OW] → dx [N, Cin, H, W] of the grouped convolution `g`, any stride. */
export function groupedStridedGradInput(dy: Tensor, weight: Tensor, dx: Tensor, g: Conv2dGeometry): void {
  const inG = g.Cin / g.groups;
  const outG = g.Cout / g.groups;
  const cob = groupedBlock(inG);
  const blocks = inG / cob;
  const rows = Math.ceil(g.H / g.sh);
  const opt = depthwiseOpt(Math.ceil(g.W / g.sw));
  const strips = Math.ceil(g.W / g.sw / opt);
  const total = g.sh * g.sw * g.N * g.groups * blocks * rows * strips;
  groupedDgradKernel.dispatch({
    defines: { ...depthwiseDefines(g, opt), COB: cob, ACC: opt * cob },
    uniforms: {
      total, strips, rows, blocks, N: g.N, C: g.Cout, Cin: g.Cin, inG, outG,
      H: g.H, W: g.W, OH: g.OH, OW: g.OW, ph: g.ph, pw: g.pw,
    },
    bindings: { DY: dy, Wt: weight, DX: dx },
    workgroups: runtime().grid(Math.ceil(total / WORKGROUP)),
    shape: () => `${g.N}x${g.Cin}x${g.H}x${g.W} g${g.groups} k${g.KH}x${g.KW} s${g.sh}x${g.sw}`,
  });
}
