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

/**
 * The binding declarations of the epilogue operands; the residual, an activation, is stored as
 * `residual` (a WGSL type or a `${NAME}` define: f16 in half-precision inference).
 */
export function epilogueBindingSpecs(residual: string) {
  return [
    { name: 'bias', type: 'f32', access: 'read' },
    { name: 'scale', type: 'f32', access: 'read' },
    { name: 'shift', type: 'f32', access: 'read' },
    { name: 'residual', type: residual, access: 'read' },
  ] as const;
}

/** The epilogue bindings of the f32-only kernels. */
export const EPILOGUE_BINDINGS = epilogueBindingSpecs('f32');
