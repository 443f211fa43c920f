/** Softmax cross-entropy with integer class labels, averaged over the batch. */
import { type Tensor, shapeString } from '../tensor.js';
import { record } from '../tape.js';
import { mean } from './reduce.js';
import { checkDtype, checkFloat } from '../checks.js';
import { crossEntropyForward, crossEntropyBackward } from '../kernels/losses/cross_entropy.js';

/**
 * Mean over rows of -log softmax(logits)[label]. `logits` is [N, C], `labels` an i32 [N]
 * tensor with values in [0, C) (a value outside gives NaN).
 */
export function crossEntropy(logits: Tensor, labels: Tensor): Tensor {
  checkFloat('crossEntropy', logits);
  checkDtype('crossEntropy', labels, ['i32']);
  if (logits.rank !== 2 || labels.rank !== 1 || labels.shape[0] !== logits.shape[0]) {
    throw new Error(`crossEntropy: logits must be [N, C] and labels [N], got ${shapeString(logits.shape)} and ${shapeString(labels.shape)}`);
  }
  const { rowLoss, probs } = crossEntropyForward(logits, labels);
  const out = mean(rowLoss);
  rowLoss.dispose();
  record('crossEntropy', [logits], [out], ([g], _needs, [probs, labels]) => [crossEntropyBackward(probs, labels, g!)], [probs, labels]);
  probs.dispose();
  return out;
}
