/**
 * Kernel `conv2d/wino_input`: the input transform V = Bᵀ d B (tiles of x, rows padded to 4).
 * Its straight-line transform code comes from winograd-matrices.ts as the defines LOADS,
 * TRANSFORM and STORES; the algorithm is in winograd.ts.
 */
import source from '../../../../shaders/conv2d/wino_input.wgsl';
import { defineKernel } from '../../kernel.js';

export const winoInputKernel = defineKernel({
  name: 'conv2d/wino_input',
  source,
  uniforms: { C: 'u32', P: 'u32', H: 'u32', W: 'u32', TH: 'u32', TW: 'u32', padH: 'i32', padW: 'i32', PS: 'u32' },
  bindings: [
    { name: 'x', type: 'f32', access: 'read' },
    { name: 'V', type: 'f32', access: 'read_write' },
  ],
  workgroupSize: 256, // the grid winograd.ts launches assumes 256
  snippets: ['winoTile'],
});
