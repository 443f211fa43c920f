/**
 * Kernel `conv2d/wphase`: the weight re-laid out for one stride phase of the input gradient
 * (tiled schedule), out[g, ci, co, th, tw] = w[g*Cog + co, ci, kh0 + th*khStep, kw0 + tw*kwStep].
 */
import source from '../../../../shaders/conv2d/wphase.wgsl';
import { defineKernel } from '../../kernel.js';
import { runtime } from '../../runtime.js';
import { empty, type Tensor } from '../../tensor.js';
import type { Conv2dGeometry } from './geometry.js';
import type { PhaseTaps } from './gemm.js';

const WORKGROUP = 256;

export const wphaseKernel = defineKernel({
  name: 'conv2d/wphase',
  source,
  uniforms: {
    total: 'u32', Cig: 'u32', Cog: 'u32', THp: 'u32',
    TWp: 'u32', KH: 'u32', KW: 'u32', kh0: 'u32',
    kw0: 'u32', khStep: 'u32', kwStep: 'u32',
  },
  bindings: [
    { name: 'w', type: 'f32', access: 'read' },
    { name: 'out', type: 'f32', access: 'read_write' },
  ],
  workgroupSize: WORKGROUP,
});

/** The phase's taps of `weight` as [groups, Cin/g, Cout/g, th.count, tw.count]. */
export function phaseWeights(weight: Tensor, g: Conv2dGeometry, th: PhaseTaps, tw: PhaseTaps): Tensor {
  const Cig = g.Cin / g.groups;
  const Cog = g.Cout / g.groups;
  const out = empty([g.groups, Cig, Cog, th.count, tw.count]);
  wphaseKernel.dispatch({
    uniforms: {
      total: out.size, Cig, Cog, THp: th.count, TWp: tw.count, KH: g.KH, KW: g.KW,
      kh0: th.first, kw0: tw.first, khStep: th.step, kwStep: tw.step,
    },
    bindings: { w: weight, out },
    workgroups: runtime().grid(Math.ceil(out.size / WORKGROUP)),
  });
  return out;
}
