/**
 * Kernel `conv2d/wino_dweight`: the weight gradient's last pass, dW = Gᵀ dU G.
 * Its straight-line transform code comes from winograd-matrices.ts as the defines LOADS,
 * TRANSFORM and STORES; the algorithm is in winograd.ts.
 */
import source from '../../../../shaders/conv2d/wino_dweight.wgsl';
import { defineKernel } from '../../kernel.js';

export const winoDweightKernel = defineKernel({
  name: 'conv2d/wino_dweight',
  source,
  uniforms: { R: 'u32', Ccols: 'u32' },
  bindings: [
    { name: 'dU', type: 'vec4f', access: 'read', when: 'VEC4' },
    { name: 'dU', type: 'f32', access: 'read', unless: 'VEC4' },
    { name: 'dW', type: 'vec4f', access: 'read_write', when: 'VEC4' },
    { name: 'dW', type: 'f32', access: 'read_write', unless: 'VEC4' },
  ],
  workgroupSize: 256, // the grid winograd.ts launches assumes 256
});
