/**
 * Kernel `elementwise/cast`: a dense tensor converted f32 → f16 or f16 → f32, one thread per
 * element (the entry and exit of half-precision inference). Raw (no autograd): `cast` builds on it.
 */
import source from '../../../../shaders/elementwise/cast.wgsl';
import { defineKernel } from '../../kernel.js';
import { runtime } from '../../runtime.js';
import { empty, type Tensor } from '../../tensor.js';

const WORKGROUP = 256;

export const castKernel = defineKernel({
  name: 'elementwise/cast',
  source,
  uniforms: { n: 'u32' },
  bindings: [
    { name: 'x', type: '${FROM}', access: 'read' },
    { name: 'out', type: '${TO}', access: 'read_write' },
  ],
  workgroupSize: WORKGROUP,
  enables: { HALF: 'f16' },
});

/** x converted to `to` ('f32' or 'f16'; x is the other one), in a new tensor of x's shape. */
export function castRaw(x: Tensor, to: 'f32' | 'f16'): Tensor {
  const out = empty(x.shape, to);
  if (x.size === 0) return out;
  castKernel.dispatch({
    defines: { FROM: x.dtype, TO: to, HALF: true },
    uniforms: { n: x.size },
    bindings: { x, out },
    workgroups: runtime().grid(Math.ceil(x.size / WORKGROUP)),
    shape: () => `${x.dtype}->${to} n=${x.size}`,
  });
  return out;
}
