/** Row gather (index_select along axis 0) with its scatter-add gradient. */
import { type Tensor, shapeString } from '../tensor.js';
import { record } from '../tape.js';
import { checkDtype, checkLive } from '../checks.js';
import { gatherRows, scatterAddRows } from '../kernels/indexing/gather.js';

/** out[i] = x[index[i]] along the first axis; `index` is i32 [count] (clamped to range). */
export function gather(x: Tensor, index: Tensor): Tensor {
  checkLive('gather', x);
  checkDtype('gather', index, ['i32']);
  if (x.rank < 1 || index.rank !== 1) throw new Error(`gather: x must have rank >= 1 and index rank 1, got ${shapeString(x.shape)} and ${shapeString(index.shape)}`);
  const out = gatherRows(x, index);
  const inShape = x.shape;
  record('gather', [x], [out], ([g], _needs, [index]) => [scatterAddRows(g!, index, inShape)], [index]);
  return out;
}
