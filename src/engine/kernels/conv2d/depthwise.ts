/**
 * Kernel `conv2d/depthwise`: the depthwise convolution (groups = Cin, Cin/groups = 1, any
 * channel multiplier Cout/Cin), forward with the fused epilogue, and with FLIP the stride-1
 * input gradient (see depthwise.wgsl). Raw launchers (no autograd); the algorithm choice is
 * in algorithm.ts.
 */
import source from '../../../../shaders/conv2d/depthwise.wgsl';
import { defineKernel } from '../../kernel.js';
import { runtime } from '../../runtime.js';
import type { Tensor } from '../../tensor.js';
import type { Conv2dGeometry } from './geometry.js';
import { EPILOGUE_BINDINGS, epilogueBindings, epilogueBits, type Epi } from './epilogue.js';

/** Outputs per thread along a row in the input gradient's phased kernel. */
export const DEPTHWISE_OPT = 4;

/**
 * Outputs per thread along a row of width `ow` in the forward kernel: 4 to 8, the fewest padded
 * columns, then the most (each kernel row's segment and weight loads are shared by more
 * outputs): 14 → 7 (not 16 with 4), 7 → 7, 28 → 7, 56 and 112 → 8.
 */
export function depthwiseOpt(ow: number): number {
  let best = 4;
  for (let o = 5; o <= 8; o++) if (Math.ceil(ow / o) * o <= Math.ceil(ow / best) * best) best = o;
  return best;
}
const WORKGROUP = 64;

export const depthwiseKernel = defineKernel({
  name: 'conv2d/depthwise',
  source,
  uniforms: {
    total: 'u32', strips: 'u32', C: 'u32', Cin: 'u32', mult: 'u32',
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

/** Whether the convolution is depthwise: one input channel per group (groups = Cin > 1). */
export function isDepthwise(g: Conv2dGeometry): boolean {
  return g.groups > 1 && g.groups === g.Cin;
}

/** The compile-time kernel geometry of a depthwise pass with `opt` outputs per thread. */
export function depthwiseDefines(g: Conv2dGeometry, opt = DEPTHWISE_OPT): Record<string, number> {
  return { KH: g.KH, KW: g.KW, SH: g.sh, SW: g.sw, DH: g.dh, DW: g.dw, OPT: opt };
}

/**
 * One depthwise sweep: src [N, Cin, H, W] → out [N, C, OH, OW] with C = Cin·mult, padding
 * (ph, pw) (negative allowed: the flipped input gradient), `flip`: the weight rotated by 180°.
 */
export function depthwiseSweep(src: Tensor, weight: Tensor, out: Tensor, g: Conv2dGeometry, flip: boolean, epi: Epi = {}): void {
  const opt = depthwiseOpt(g.OW);
  const strips = Math.ceil(g.OW / opt);
  const total = g.N * g.Cout * g.OH * strips;
  depthwiseKernel.dispatch({
    defines: { ...depthwiseDefines(g, opt), FLIP: flip },
    uniforms: {
      total, strips, C: g.Cout, Cin: g.Cin, mult: g.Cout / g.Cin,
      H: g.H, W: g.W, OH: g.OH, OW: g.OW, ph: g.ph, pw: g.pw, epi: epilogueBits(epi),
    },
    bindings: { X: src, Wt: weight, Y: out, ...epilogueBindings(epi) },
    workgroups: runtime().grid(Math.ceil(total / WORKGROUP)),
    shape: () => `${g.N}x${g.Cout}x${g.OH}x${g.OW} k${g.KH}x${g.KW} s${g.sh}${flip ? ' flip' : ''}`,
  });
}

/** The depthwise forward convolution x → out [N, Cout, OH, OW] with the fused epilogue. */
export function depthwiseForward(x: Tensor, weight: Tensor, out: Tensor, g: Conv2dGeometry, epi: Epi): void {
  depthwiseSweep(x, weight, out, g, false, epi);
}
