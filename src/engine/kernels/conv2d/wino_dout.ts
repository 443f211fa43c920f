/**
 * Kernel `conv2d/wino_dout`: the weight gradient's transform of dy, dM = A dy Aᵀ.
 * Its straight-line transform code comes from winograd-matrices.ts as the defines LOADS,
 * TRANSFORM and STORES; the algorithm is in winograd.ts.
 */
import source from '../../../../shaders/conv2d/wino_dout.wgsl';
import { defineKernel } from '../../kernel.js';

export const winoDoutKernel = defineKernel({
  name: 'conv2d/wino_dout',
  source,
  uniforms: { R: 'u32', P: 'u32', OH: 'u32', OW: 'u32', TH: 'u32', TW: 'u32', PS: 'u32' },
  bindings: [
    { name: 'dy', type: 'f32', access: 'read' },
    { name: 'dM', type: 'f32', access: 'read_write' },
  ],
  workgroupSize: 256, // the grid winograd.ts launches assumes 256
  snippets: ['winoTile'],
});
