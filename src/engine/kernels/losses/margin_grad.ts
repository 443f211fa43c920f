/**
 * Kernel `losses/margin_grad`: the margin loss's gradient for the embeddings x [B, C], one
 * workgroup of 64 threads per row summing the row's pair terms (from `losses/margin_csr`) in a
 * fixed order: bit-reproducible, no float atomics. Raw (no autograd).
 */
import source from '../../../../shaders/losses/margin_grad.wgsl';
import { defineKernel } from '../../kernel.js';
import { runtime } from '../../runtime.js';
import { empty, type Tensor } from '../../tensor.js';
import { marginPairTerms } from './margin_csr.js';

export const marginGradKernel = defineKernel({
  name: 'losses/margin_grad',
  source,
  uniforms: { B: 'u32', C: 'u32' },
  bindings: [
    { name: 'ia', type: 'i32', access: 'read' },
    { name: 'ip', type: 'i32', access: 'read' },
    { name: 'inn', type: 'i32', access: 'read' },
    { name: 'rowStart', type: 'u32', access: 'read' },
    { name: 'entries', type: 'u32', access: 'read' },
    { name: 'coef', type: 'f32', access: 'read' },
    { name: 'x', type: 'f32', access: 'read' },
    { name: 'dx', type: 'f32', access: 'read_write' },
  ],
  workgroupSize: 64,
  snippets: ['batchRow'],
});

/** dx [B, C] from the distances' coefficients coef [2T] (`marginCoefficients`). */
export function marginEmbeddingGrad(x: Tensor, anchors: Tensor, positives: Tensor, negatives: Tensor, coef: Tensor): Tensor {
  const [B, C] = x.shape;
  const { rowStart, entries } = marginPairTerms(B, anchors, positives, negatives);
  const dx = empty([B, C]);
  marginGradKernel.dispatch({
    uniforms: { B, C },
    bindings: { ia: anchors, ip: positives, inn: negatives, rowStart, entries, coef, x, dx },
    workgroups: runtime().grid(B),
  });
  rowStart.dispose();
  entries.dispose();
  return dx;
}
