/**
 * Kernel `normalization/l2n`: row L2 normalization y = x / (||x||_2 + eps) of x [rows, len],
 * and with BACKWARD its gradient for g; T threads per row reduce the sum of squares (and
 * g . x), then the same threads write the row. Raw (no autograd): `l2normalize` builds on it.
 */
import source from '../../../../shaders/normalization/l2n.wgsl';
import { defineKernel } from '../../kernel.js';
import { empty, type Tensor } from '../../tensor.js';
import { rowGrid, rowThreads, rowWorkgroupOf } from '../rows.js';

export const l2nKernel = defineKernel({
  name: 'normalization/l2n',
  source,
  uniforms: { rows: 'u32', len: 'u32', eps: 'f32' },
  bindings: [
    { name: 'x', type: 'f32', access: 'read' },
    { name: 'g', type: 'f32', access: 'read', when: 'BACKWARD' },
    { name: 'out', type: 'f32', access: 'read_write' },
  ],
  workgroupSize: rowWorkgroupOf,
  snippets: ['rows'],
});

/** x [rows, len] normalized per row (`g` null), or the gradient of that for g (same shape). */
export function l2normalizeRows(x: Tensor, g: Tensor | null, eps: number): Tensor {
  const [rows, len] = x.shape;
  const out = empty(x.shape);
  if (rows > 0 && len > 0) {
    const t = rowThreads(rows, len);
    l2nKernel.dispatch({
      defines: { T: t, BACKWARD: g !== null },
      uniforms: { rows, len, eps },
      bindings: g ? { x, g, out } : { x, out },
      workgroups: rowGrid(rows, t),
    });
  }
  return out;
}
