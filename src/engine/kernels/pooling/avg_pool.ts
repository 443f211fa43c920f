/**
 * Kernel `pooling/avg_pool`: 2-D average pooling of [planes = N*C, H, W] -> [planes, OH, OW],
 * one thread per output, with PyTorch's divisor (COUNT_PAD: count_include_pad). Raw (no
 * autograd): `avgPool2d` builds on it.
 */
import source from '../../../../shaders/pooling/avg_pool.wgsl';
import { defineKernel } from '../../kernel.js';
import type { Tensor } from '../../tensor.js';
import { planeGrid } from './max_pool.js';

export const avgPoolKernel = defineKernel({
  name: 'pooling/avg_pool',
  source,
  uniforms: {
    planes: 'u32', h: 'u32', w: 'u32', oh: 'u32', ow: 'u32', kh: 'u32', kw: 'u32',
    sh: 'u32', sw: 'u32', ph: 'u32', pw: 'u32', invOw: 'f32',
  },
  bindings: [
    { name: 'x', type: 'f32', access: 'read' },
    { name: 'out', type: 'f32', access: 'read_write' },
  ],
  workgroupSize: 256,
  snippets: ['divmod'],
});

/** The geometry of an average pooling over [planes, h, w] -> [planes, oh, ow]. */
export interface AvgPoolGeometry {
  planes: number; h: number; w: number; oh: number; ow: number;
  kh: number; kw: number; sh: number; sw: number; ph: number; pw: number;
  /** Padded positions count in the divisor (PyTorch's count_include_pad). */
  countPad: boolean;
}

/** Average pooling of x into out (both dense). */
export function avgPoolForward(x: Tensor, out: Tensor, geo: AvgPoolGeometry): void {
  if (out.size === 0) return;
  const { countPad, ...uniforms } = geo;
  avgPoolKernel.dispatch({
    defines: { COUNT_PAD: countPad },
    uniforms: { ...uniforms, invOw: 1 / geo.ow },
    bindings: { x, out },
    workgroups: planeGrid(geo.oh * geo.ow, geo.planes),
  });
}
