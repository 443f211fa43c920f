/** Input checks shared by the ops: clear errors naming the op, the tensor and its shape. */
import { type Tensor, shapeString, type DType } from './tensor.js';

export function checkLive(op: string, ...tensors: Tensor[]): void {
  for (const t of tensors) t.liveStorage(op);
}

export function checkDtype(op: string, t: Tensor, dtypes: DType[]): void {
  t.liveStorage(op);
  if (!dtypes.includes(t.dtype)) {
    throw new Error(`${op}: expected a ${dtypes.join(' or ')} tensor, got ${t.dtype} ${shapeString(t.shape)}`);
  }
}

export function checkFloat(op: string, ...tensors: Tensor[]): void {
  for (const t of tensors) checkDtype(op, t, ['f32']);
}

export function checkRank(op: string, t: Tensor, rank: number, what = 'input'): void {
  if (t.rank !== rank) throw new Error(`${op}: ${what} must have rank ${rank}, got shape ${shapeString(t.shape)}`);
}
