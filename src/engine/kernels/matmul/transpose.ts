/**
 * Kernel `matmul/transpose`: Out[z] = In[z]ᵀ for a batch of row-major R x C matrices, the
 * staging copy of a product's transposed right operand (so that the product reads it along N).
 */
import source from '../../../../shaders/matmul/transpose.wgsl';
import { defineKernel } from '../../kernel.js';
import { empty, type Tensor } from '../../tensor.js';

export const transposeKernel = defineKernel({
  name: 'matmul/transpose',
  source,
  uniforms: { R: 'u32', C: 'u32' },
  bindings: [
    { name: 'In', type: 'f32', access: 'read' },
    { name: 'Out', type: 'f32', access: 'read_write' },
  ],
  /** 8 x 8 invocations (WORKGROUP_SIZE along x and along y), 4 x 4 values each. */
  workgroupSize: 8,
});

/** The transposes of x's `batch` row-major R x C matrices, as a new [batch, C, R] tensor. */
export function transposeBatch(x: Tensor, batch: number, R: number, C: number): Tensor {
  const out = empty([batch, C, R]);
  transposeKernel.dispatch({
    uniforms: { R, C },
    bindings: { In: x, Out: out },
    workgroups: [Math.ceil(C / 32), Math.ceil(R / 32), batch],
    shape: () => `b${batch} ${R}x${C}`,
  });
  return out;
}
