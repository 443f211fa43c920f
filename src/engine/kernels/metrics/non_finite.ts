/**
 * Kernel `metrics/non_finite`: the number of NaN and infinite elements of one tensor, written
 * into one slot of a count vector. Raw: `nonFiniteCounts` (ops/non-finite-counts.ts) runs it
 * once per tensor into a shared output.
 */
import source from '../../../../shaders/metrics/non_finite.wgsl';
import { defineKernel } from '../../kernel.js';
import type { Tensor } from '../../tensor.js';

const WORKGROUP = 256;

export const nonFiniteKernel = defineKernel({
  name: 'metrics/non_finite',
  source,
  uniforms: { n: 'u32', slot: 'u32' },
  bindings: [
    { name: 'x', type: 'u32', access: 'read' },
    { name: 'out', type: 'f32', access: 'read_write' },
  ],
  workgroupSize: WORKGROUP,
});

/**
 * out[slot] = number of NaN / ±Infinity elements of the f32 tensor x (one workgroup: the
 * check runs at log windows over the parameters, where a pass of a few ms per window is
 * nothing; a second pass to spread large tensors over workgroups is not worth its code).
 */
export function countNonFiniteInto(x: Tensor, out: Tensor, slot: number): void {
  nonFiniteKernel.dispatch({
    uniforms: { n: x.size, slot },
    bindings: { x, out },
    workgroups: [1],
  });
}
