/**
 * Kernel `pooling/max_pool_backward`: one thread per stride-sized block of inputs loads the few
 * output windows that can cover the block (4 for 3x3/2) and gives each input value the sum of
 * the gradients whose saved argmax it is. No atomics, deterministic. Raw (no autograd).
 */
import source from '../../../../shaders/pooling/max_pool_backward.wgsl';
import { defineKernel } from '../../kernel.js';
import { empty, type Shape, type Tensor } from '../../tensor.js';
import { planeGrid, type PoolGeometry } from './max_pool.js';

export const maxPoolBackwardKernel = defineKernel({
  name: 'pooling/max_pool_backward',
  source,
  uniforms: {
    planes: 'u32', h: 'u32', w: 'u32', oh: 'u32', ow: 'u32', bh: 'u32', bw: 'u32',
    sh: 'u32', sw: 'u32', ph: 'u32', pw: 'u32', invBw: 'f32',
  },
  bindings: [
    { name: 'dy', type: 'f32', access: 'read' },
    { name: 'index', type: 'i32', access: 'read' },
    { name: 'dx', type: 'f32', access: 'read_write' },
  ],
  workgroupSize: 256,
  snippets: ['divmod'],
});

/** The input gradient [inShape] of max pooling from the output gradient dy and the saved argmax. */
export function maxPoolBackward(dy: Tensor, index: Tensor, inShape: Shape, geo: PoolGeometry): Tensor {
  const { planes, h, w, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw } = geo;
  const dx = empty(inShape);
  if (dx.size === 0) return dx;
  // backward blocks (stride-sized) and the windows that can cover one (see the WGSL)
  const bh = Math.ceil((h + ph) / sh);
  const bw = Math.ceil((w + pw) / sw);
  const th = Math.floor(((kh - 1) * dh) / sh) + 1;
  const tw = Math.floor(((kw - 1) * dw) / sw) + 1;
  maxPoolBackwardKernel.dispatch({
    defines: { TH: th, TW: tw, NC: th * tw },
    uniforms: { planes, h, w, oh, ow, bh, bw, sh, sw, ph, pw, invBw: 1 / bw },
    bindings: { dy, index, dx },
    workgroups: planeGrid(bh * bw, planes),
  });
  return dx;
}
