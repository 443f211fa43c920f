/**
 * Kernel `metrics/topk_correct`: for each row and each k (at most 4), 1 if the label's logit
 * ranks within the top k, else 0. Raw: `topkCorrect` (ops/accuracy.ts) sums the rows.
 */
import source from '../../../../shaders/metrics/topk_correct.wgsl';
import { defineKernel } from '../../kernel.js';
import { empty, type Tensor } from '../../tensor.js';

const WORKGROUP = 64;

export const topkCorrectKernel = defineKernel({
  name: 'metrics/topk_correct',
  source,
  uniforms: { rows: 'u32', cols: 'u32', nk: 'u32', ks: 'vec8u' },
  bindings: [
    { name: 'x', type: 'f32', access: 'read' },
    { name: 'labels', type: 'i32', access: 'read' },
    { name: 'hits', type: 'f32', access: 'read_write' },
  ],
  workgroupSize: WORKGROUP,
});

/** Hits [rows, ks.length] of logits [rows, cols] and i32 labels [rows]. */
export function topkHits(logits: Tensor, labels: Tensor, ks: readonly number[]): Tensor {
  const [rows, cols] = logits.shape;
  const hits = empty([rows, ks.length]);
  topkCorrectKernel.dispatch({
    uniforms: { rows, cols, nk: ks.length, ks },
    bindings: { x: logits, labels, hits },
    workgroups: [Math.ceil(rows / WORKGROUP)],
  });
  return hits;
}
