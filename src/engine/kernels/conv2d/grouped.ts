/**
 * Kernel `conv2d/grouped`: grouped convolutions with narrow groups (see grouped.wgsl), the
 * forward pass with the fused epilogue and, with TRANSPOSE, the stride-1 input gradient. Raw
 * launchers (no autograd); the algorithm choice is in algorithm.ts.
 */
import source from '../../../../shaders/conv2d/grouped.wgsl';
import { defineKernel } from '../../kernel.js';
import { runtime } from '../../runtime.js';
import type { Tensor } from '../../tensor.js';
import type { Conv2dGeometry } from './geometry.js';
import { depthwiseOpt } from './depthwise.js';
import { EPILOGUE_BINDINGS, epilogueBindings, epilogueBits, type Epi } from './epilogue.js';

const WORKGROUP = 64;
/** The most output channels of a group one thread computes (COB·OPT accumulators: 64 at most). */
const MAX_COB = 8;

export const groupedKernel = defineKernel({
  name: 'conv2d/grouped',
  source,
  uniforms: {
    total: 'u32', strips: 'u32', blocks: 'u32', C: 'u32', Cin: 'u32', inG: 'u32', outG: 'u32',
    H: 'u32', W: 'u32', OH: 'u32', OW: 'u32', ph: 'i32', pw: 'i32', epi: 'u32',
  },
  bindings: [
    { name: 'X', type: 'f32', access: 'read' },
    { name: 'Wt', type: 'f32', access: 'read' },
    { name: 'Y', type: 'f32', access: 'read_write' },
    ...EPILOGUE_BINDINGS,
  ],
  workgroupSize: WORKGROUP,
  snippets: ['convEpilogue'],
});

/** Output channels per thread: the largest power of two up to 8 that divides `outG`. */
export function groupedBlock(outG: number): number {
  let cob = MAX_COB;
  while (outG % cob !== 0) cob /= 2;
  return cob;
}

/**
 * One grouped sweep: src [N, Cin, H, W] → out [N, Cout, OH, OW] in `g.groups` groups, padding
 * (ph, pw) (negative allowed: the transposed input gradient crops). `transpose`: the weight is
 * [Cin, Cout/groups, kh, kw] read transposed within each group and rotated by 180°.
 */
function groupedSweep(src: Tensor, weight: Tensor, out: Tensor, g: Conv2dGeometry, transpose: boolean, epi: Epi = {}): void {
  const inG = g.Cin / g.groups;
  const outG = g.Cout / g.groups;
  const opt = depthwiseOpt(g.OW);
  const cob = groupedBlock(outG);
  const strips = Math.ceil(g.OW / opt);
  const blocks = outG / cob;
  const total = g.N * g.groups * blocks * g.OH * strips;
  groupedKernel.dispatch({
    defines: {
      KH: g.KH, KW: g.KW, SH: g.sh, SW: g.sw, DH: g.dh, DW: g.dw,
      OPT: opt, COB: cob, ACC: opt * cob, TRANSPOSE: transpose,
    },
    uniforms: {
      total, strips, blocks, C: g.Cout, Cin: g.Cin, inG, outG,
      H: g.H, W: g.W, OH: g.OH, OW: g.OW, ph: g.ph, pw: g.pw, epi: epilogueBits(epi),
    },
    bindings: { X: src, Wt: weight, Y: out, ...epilogueBindings(epi) },
    workgroups: runtime().grid(Math.ceil(total / WORKGROUP)),
    shape: () => `${g.N}x${g.Cout}x${g.OH}x${g.OW} g${g.groups} k${g.KH}x${g.KW} s${g.sh}${transpose ? ' transposed' : ''}`,
  });
}

/** The grouped forward convolution x → out [N, Cout, OH, OW] with the fused epilogue. */
export function groupedForward(x: Tensor, weight: Tensor, out: Tensor, g: Conv2dGeometry, epi: Epi): void {
  groupedSweep(x, weight, out, g, false, epi);
}

/**
 * The input gradient dy [N, Cout, OH, OW] → dx [N, Cin, H, W] of the stride-1 grouped
 * convolution `g`: the transposed convolution, a correlation of dy with the rotated kernel.
 */
export function groupedGradInput(dy: Tensor, weight: Tensor, dx: Tensor, g: Conv2dGeometry): void {
  if (g.sh !== 1 || g.sw !== 1) throw new Error(`conv2d/grouped: the input gradient needs stride 1, got ${g.sh}x${g.sw}`);
  const transposed: Conv2dGeometry = {
    ...g, Cin: g.Cout, Cout: g.Cin, H: g.OH, W: g.OW, OH: g.H, OW: g.W,
    ph: (g.KH - 1) * g.dh - g.ph, pw: (g.KW - 1) * g.dw - g.pw,
  };
  groupedSweep(dy, weight, dx, transposed, true);
}
