/** Top-k accuracy counts, computed on the GPU (read back only when the caller wants them). */
import topkSource from '../../../shaders/topk_correct.wgsl';
import { runtime } from '../runtime.js';
import { Uniforms } from '../uniforms.js';
import { empty, type Tensor, shapeString } from '../tensor.js';
import { sum } from './reduce.js';
import { checkDtype, checkFloat } from './checks.js';

/**
 * Number of rows whose label is among the top-k logits, for each k in `ks` (at most 4):
 * a float tensor [ks.length]. Divide by N for accuracy.
 */
export function topkCorrect(logits: Tensor, labels: Tensor, ks: readonly number[] = [1, 5]): Tensor {
  checkFloat('topkCorrect', logits);
  checkDtype('topkCorrect', labels, ['i32']);
  if (logits.rank !== 2 || labels.rank !== 1 || labels.shape[0] !== logits.shape[0]) {
    throw new Error(`topkCorrect: logits must be [N, C] and labels [N], got ${shapeString(logits.shape)} and ${shapeString(labels.shape)}`);
  }
  if (ks.length < 1 || ks.length > 4) throw new Error(`topkCorrect: between 1 and 4 values of k, got ${ks.length}`);
  const [rows, cols] = logits.shape;
  const hits = empty([rows, ks.length]);
  const u = new Uniforms().u32(rows).u32(cols).u32(ks.length).u32(0).u32s([0, 1, 2, 3].map((i) => ks[i] ?? 0));
  const rt = runtime();
  rt.dispatchSource({ name: 'topk_correct', source: topkSource }, { uniforms: u, buffers: [logits.buffer, labels.buffer, hits.buffer], workgroups: [Math.ceil(rows / 64)] });
  const counts = sum(hits, 0);
  hits.dispose();
  return counts;
}
