/**
 * Kernel `losses/margin_csr`: lists the pair terms (4t + role) of every embedding row as CSR
 * (rowStart [B + 1], entries [4T]) in one workgroup of 256 threads, so that `losses/margin_grad`
 * sums them per row without float atomics. Raw (no autograd).
 */
import source from '../../../../shaders/losses/margin_csr.wgsl';
import { defineKernel } from '../../kernel.js';
import { empty, type Tensor } from '../../tensor.js';

export const marginCsrKernel = defineKernel({
  name: 'losses/margin_csr',
  source,
  uniforms: { B: 'u32', T: 'u32' },
  bindings: [
    { name: 'ia', type: 'i32', access: 'read' },
    { name: 'ip', type: 'i32', access: 'read' },
    { name: 'inn', type: 'i32', access: 'read' },
    { name: 'rowStart', type: 'u32', access: 'read_write' },
    { name: 'entries', type: 'u32', access: 'read_write' },
  ],
  workgroupSize: 256,
  snippets: ['batchRow'],
});

/** The pair terms of each of the B rows touched by the triplets. */
export function marginPairTerms(B: number, anchors: Tensor, positives: Tensor, negatives: Tensor): { rowStart: Tensor; entries: Tensor } {
  const T = anchors.shape[0];
  const rowStart = empty([B + 1], 'u32');
  const entries = empty([4 * T], 'u32');
  marginCsrKernel.dispatch({
    uniforms: { B, T },
    bindings: { ia: anchors, ip: positives, inn: negatives, rowStart, entries },
    workgroups: [1],
  });
  return { rowStart, entries };
}
