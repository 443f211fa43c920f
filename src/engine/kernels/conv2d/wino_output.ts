/**
 * Kernel `conv2d/wino_output`: the output transform y = Aᵀ M A, with the convolution's epilogue.
 * Its straight-line transform code comes from winograd-matrices.ts as the defines LOADS,
 * TRANSFORM and STORES; the algorithm is in winograd.ts.
 */
import source from '../../../../shaders/conv2d/wino_output.wgsl';
import { defineKernel } from '../../kernel.js';
import { EPILOGUE_BINDINGS } from './epilogue.js';

export const winoOutputKernel = defineKernel({
  name: 'conv2d/wino_output',
  source,
  uniforms: { R: 'u32', P: 'u32', OH: 'u32', OW: 'u32', TH: 'u32', TW: 'u32', epi: 'u32', PS: 'u32' },
  bindings: [
    { name: 'm', type: 'f32', access: 'read' },
    { name: 'Y', type: 'f32', access: 'read_write' },
    ...EPILOGUE_BINDINGS,
  ],
  workgroupSize: 256, // the grid winograd.ts launches assumes 256
  snippets: ['winoTile', 'convEpilogue'],
});
