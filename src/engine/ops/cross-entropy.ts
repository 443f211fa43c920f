/** Softmax cross-entropy with integer class labels, averaged over the batch. */
import ceSource from '../../../shaders/cross_entropy.wgsl';
import { runtime } from '../runtime.js';
import { Uniforms } from '../uniforms.js';
import { empty, type Tensor, shapeString } from '../tensor.js';
import { record } from '../tape.js';
import { mean } from './reduce.js';
import { checkDtype, checkFloat } from './checks.js';

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
  const [rows, cols] = logits.shape;
  const rt = runtime();
  const probs = empty([rows, cols]);
  const rowLoss = empty([rows]);
  const u = new Uniforms().u32(rows).u32(cols).f32(1 / rows).u32(0);
  rt.dispatchSource(
    { name: 'cross_entropy', source: ceSource, defines: { FORWARD: true } },
    { uniforms: u, buffers: [logits.buffer, labels.buffer, probs.buffer, rowLoss.buffer], workgroups: rt.grid(rows) },
  );
  const out = mean(rowLoss);
  rowLoss.dispose();
  record('crossEntropy', [logits], [out], ([g], _needs, [probs, labels]) => {
    const dx = empty([rows, cols]);
    rt.dispatchSource(
      { name: 'cross_entropy', source: ceSource, defines: { FORWARD: false } },
      { uniforms: new Uniforms().u32(rows).u32(cols).f32(1 / rows).u32(0), buffers: [probs.buffer, labels.buffer, g!.buffer, dx.buffer], workgroups: rt.grid(rows) },
    );
    return [dx];
  }, [probs, labels]);
  probs.dispose();
  return out;
}
