/** Top-k accuracy counts, computed on the GPU (read back only when the caller wants them). */
import { type Tensor, shapeString } from '../tensor.js';
import { topkHits } from '../kernels/metrics/topk_correct.js';
import { sum } from './reduce.js';
import { checkDtype, checkFloat } from '../checks.js';

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
  const hits = topkHits(logits, labels, ks);
  const counts = sum(hits, 0);
  hits.dispose();
  return counts;
}
