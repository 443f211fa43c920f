/** A small zero tensor bound in place of a kernel's absent optional operands. */
import { runtime } from '../runtime.js';
import { zeros, type Tensor } from '../tensor.js';
import { keep } from '../scope.js';

let placeholderTensor: { rt: unknown; t: Tensor } | null = null;

/** The placeholder of the current runtime (created once per runtime, kept out of any scope). */
export function placeholder(): Tensor {
  const rt = runtime();
  if (!placeholderTensor || placeholderTensor.rt !== rt || placeholderTensor.t.disposed) {
    placeholderTensor = { rt, t: keep(zeros([4])) };
  }
  return placeholderTensor.t;
}
