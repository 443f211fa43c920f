/**
 * The row epilogue of the matmul kernels (shaders/common/matmul_epilogue.wgsl): its operands,
 * their bindings and the bits of the `epi` uniform.
 */
import { type Tensor, shapeString } from '../../tensor.js';
import type { BindingSpec } from '../../kernel.js';
import { checkFloat } from '../../checks.js';

/** Operands of `MatmulRawOptions.epilogue`: vectors of length M, a residual shaped like C. */
export interface MatmulEpilogue {
  rowBias?: Tensor | null;
  rowScale?: Tensor;
  rowShift?: Tensor;
  residual?: Tensor;
  relu?: boolean;
}

/** The epilogue's bindings (with EPI), after the product's own; C's element type is VT. */
export const EPILOGUE_BINDINGS: readonly BindingSpec[] = [
  { name: 'rowBias', type: 'f32', access: 'read', when: 'EPI' },
  { name: 'rowScale', type: 'f32', access: 'read', when: 'EPI' },
  { name: 'rowShift', type: 'f32', access: 'read', when: 'EPI' },
  { name: 'residual', type: 'VT', access: 'read', when: 'EPI' },
];

/** Bits of params.epi (the same as conv2d.wgsl's). */
export function epilogueBits(epi: MatmulEpilogue): number {
  return (epi.rowBias ? 1 : 0) | (epi.rowScale ? 2 : 0) | (epi.residual ? 4 : 0) | (epi.relu ? 8 : 0);
}

/** Checks the epilogue of a product of M x N outputs per batch (`what` names the product). */
export function checkEpilogue(epi: MatmulEpilogue, d: { batch: number; M: number; N: number }, what: string, bias: boolean): void {
  if (bias) throw new Error(`${what}: a column bias and a row epilogue cannot be combined`);
  if (!!epi.rowScale !== !!epi.rowShift) throw new Error(`${what}: needs both rowScale and rowShift, or neither`);
  for (const [name, t] of [['rowBias', epi.rowBias], ['rowScale', epi.rowScale], ['rowShift', epi.rowShift]] as const) {
    if (!t) continue;
    checkFloat('matmul', t);
    if (t.size !== d.M) throw new Error(`${what}: ${name} ${shapeString(t.shape)} must have ${d.M} values (one per row)`);
  }
  if (epi.residual) {
    checkFloat('matmul', epi.residual);
    if (epi.residual.size !== d.batch * d.M * d.N) {
      throw new Error(`${what}: residual ${shapeString(epi.residual.shape)} must have the output's ${d.batch * d.M * d.N} elements`);
    }
  }
}
