/**
 * Kernel `losses/distance_weighted_rowmax`: distance-weighted sampling, pass 1: the maximum
 * log weight of every row of the batch's Gram matrix over the row's slice of the batch, one
 * workgroup of 64 threads per row.
 * Raw (no autograd).
 */
import source from '../../../../shaders/losses/distance_weighted_rowmax.wgsl';
import { defineKernel } from '../../kernel.js';
import { runtime } from '../../runtime.js';
import { empty, type Tensor } from '../../tensor.js';

export const distanceWeightedRowmaxKernel = defineKernel({
  name: 'losses/distance_weighted_rowmax',
  source,
  uniforms: { B: 'u32', C: 'f32', cutoff: 'f32', slice: 'u32' },
  bindings: [
    { name: 'gram', type: 'f32', access: 'read' },
    { name: 'rowmax', type: 'f32', access: 'read_write' },
  ],
  workgroupSize: 64,
  snippets: ['distanceWeights'],
});

/**
 * rowmax [B] of the log weights from gram [B, B] of C-dimensional embeddings, each row's maximum
 * taken over its contiguous slice of `slice` rows (B: the whole row).
 */
export function distanceWeightRowmax(gram: Tensor, C: number, cutoff: number, slice: number): Tensor {
  const B = gram.shape[0];
  const rowmax = empty([B]);
  distanceWeightedRowmaxKernel.dispatch({
    uniforms: { B, C, cutoff, slice },
    bindings: { gram, rowmax },
    workgroups: runtime().grid(B),
  });
  return rowmax;
}
