/**
 * Kernel `pooling/avg_pool_backward`: the input gradient of average pooling, one thread per
 * input value gathering dy / divisor over the windows that contain it (no atomics,
 * deterministic). Raw (no autograd).
 */
import source from '../../../../shaders/pooling/avg_pool_backward.wgsl';
import { defineKernel } from '../../kernel.js';
import { empty, type Shape, type Tensor } from '../../tensor.js';
import { planeGrid } from './max_pool.js';
import type { AvgPoolGeometry } from './avg_pool.js';

export const avgPoolBackwardKernel = defineKernel({
  name: 'pooling/avg_pool_backward',
  source,
  uniforms: {
    planes: 'u32', h: 'u32', w: 'u32', oh: 'u32', ow: 'u32', kh: 'u32', kw: 'u32',
    sh: 'u32', sw: 'u32', ph: 'u32', pw: 'u32', invW: 'f32',
  },
  bindings: [
    { name: 'dy', type: 'f32', access: 'read' },
    { name: 'dx', type: 'f32', access: 'read_write' },
  ],
  workgroupSize: 256,
  snippets: ['divmod'],
});

/** The input gradient [inShape] of average pooling from the output gradient dy. */
export function avgPoolBackward(dy: Tensor, inShape: Shape, geo: AvgPoolGeometry): Tensor {
  const dx = empty(inShape);
  if (dx.size === 0) return dx;
  const { countPad, ...uniforms } = geo;
  avgPoolBackwardKernel.dispatch({
    defines: { COUNT_PAD: countPad },
    uniforms: { ...uniforms, invW: 1 / geo.w },
    bindings: { dy, dx },
    workgroups: planeGrid(geo.h * geo.w, geo.planes),
  });
  return dx;
}
