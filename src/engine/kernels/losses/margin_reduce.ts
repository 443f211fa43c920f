/**
 * Kernel `losses/margin_reduce`: the margin loss's per-triplet terms in one workgroup of 256
 * threads (fixed order: bit-reproducible). FORWARD: the loss and the number of active terms;
 * otherwise the backward coefficients of the distances and the gradient of beta. Raw (no autograd).
 */
import source from '../../../../shaders/losses/margin_reduce.wgsl';
import { defineKernel } from '../../kernel.js';
import { empty, type Shape, type Tensor } from '../../tensor.js';

export const marginReduceKernel = defineKernel({
  name: 'losses/margin_reduce',
  source,
  uniforms: { T: 'u32', alpha: 'f32' },
  bindings: [
    { name: 'dist', type: 'f32', access: 'read' },
    { name: 'beta', type: 'f32', access: 'read' },
    { name: 'loss', type: 'f32', access: 'read_write', when: 'FORWARD' },
    { name: 'activeCount', type: 'f32', access: 'read_write', when: 'FORWARD' },
    { name: 'activeCount', type: 'f32', access: 'read', unless: 'FORWARD' },
    { name: 'gradOut', type: 'f32', access: 'read', unless: 'FORWARD' },
    { name: 'coef', type: 'f32', access: 'read_write', unless: 'FORWARD' },
    { name: 'dBeta', type: 'f32', access: 'read_write', unless: 'FORWARD' },
  ],
  workgroupSize: 256,
});

/** The loss (shape []) and the number of strictly positive terms (f32 [1]) from dist [2T]. */
export function marginReduce(dist: Tensor, beta: Tensor, alpha: number): { loss: Tensor; activeTerms: Tensor } {
  const loss = empty([]);
  const activeTerms = empty([1]);
  marginReduceKernel.dispatch({
    defines: { FORWARD: true },
    uniforms: { T: dist.size / 2, alpha },
    bindings: { dist, beta, loss, activeCount: activeTerms },
    workgroups: [1],
  });
  return { loss, activeTerms };
}

/**
 * For the loss gradient g: coef [2T] (the distances' weights in the embeddings' gradient) and
 * dBeta (shaped `betaShape`).
 */
export function marginCoefficients(
  dist: Tensor, beta: Tensor, activeTerms: Tensor, g: Tensor, alpha: number, betaShape: Shape,
): { coef: Tensor; dBeta: Tensor } {
  const coef = empty([dist.size]);
  const dBeta = empty(betaShape);
  marginReduceKernel.dispatch({
    defines: { FORWARD: false },
    uniforms: { T: dist.size / 2, alpha },
    bindings: { dist, beta, activeCount: activeTerms, gradOut: g, coef, dBeta },
    workgroups: [1],
  });
  return { coef, dBeta };
}
