/** The convolutions' fused forward epilogue (shaders/common/conv_epilogue.wgsl): operands and bits. */
import type { Tensor } from '../../tensor.js';
import { placeholder } from '../placeholder.js';

/** Epilogue operands of one forward convolution, all optional. */
export interface Epi {
  bias?: Tensor | null;
  scale?: Tensor;
  shift?: Tensor;
  residual?: Tensor;
  relu?: boolean;
}

/** The value of the kernels' `epi` uniform. */
export function epilogueBits(epi: Epi): number {
  return (epi.bias ? 1 : 0) | (epi.scale ? 2 : 0) | (epi.residual ? 4 : 0) | (epi.relu ? 8 : 0);
}

/** The four epilogue bindings, absent operands bound to a placeholder that is never read. */
export function epilogueBindings(epi: Epi): { bias: Tensor; scale: Tensor; shift: Tensor; residual: Tensor } {
  const none = placeholder();
  return { bias: epi.bias ?? none, scale: epi.scale ?? none, shift: epi.shift ?? none, residual: epi.residual ?? none };
}

/** The binding declarations of the epilogue operands. */
export const EPILOGUE_BINDINGS = [
  { name: 'bias', type: 'f32', access: 'read' },
  { name: 'scale', type: 'f32', access: 'read' },
  { name: 'shift', type: 'f32', access: 'read' },
  { name: 'residual', type: 'f32', access: 'read' },
] as const;
