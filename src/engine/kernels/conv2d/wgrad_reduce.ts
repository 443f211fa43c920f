/** Kernel `conv2d/wgrad_reduce`: sums the split-K partial weight gradients of `conv2d/wgrad`. */
import source from '../../../../shaders/conv2d/wgrad_reduce.wgsl';
import { defineKernel } from '../../kernel.js';

export const REDUCE_WORKGROUP = 256;

export const wgradReduceKernel = defineKernel({
  name: 'conv2d/wgrad_reduce',
  source,
  uniforms: { size: 'u32', splits: 'u32' },
  bindings: [
    { name: 'part', type: 'f32', access: 'read' },
    { name: 'out', type: 'f32', access: 'read_write' },
  ],
  workgroupSize: REDUCE_WORKGROUP,
});
