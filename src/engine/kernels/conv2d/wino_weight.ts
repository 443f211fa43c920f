/**
 * Kernel `conv2d/wino_weight`: the weight transform U = G g Gᵀ.
 * Its straight-line transform code comes from winograd-matrices.ts as the defines LOADS,
 * TRANSFORM and STORES; the algorithm is in winograd.ts.
 */
import source from '../../../../shaders/conv2d/wino_weight.wgsl';
import { defineKernel } from '../../kernel.js';

export const winoWeightKernel = defineKernel({
  name: 'conv2d/wino_weight',
  source,
  uniforms: { R: 'u32', Ccols: 'u32' },
  bindings: [
    { name: 'w', type: 'f32', access: 'read' },
    { name: 'U', type: 'f32', access: 'read_write' },
  ],
  workgroupSize: 256, // the grid winograd.ts launches assumes 256
});
