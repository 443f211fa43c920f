/**
 * Kernel `pooling/gem_backward`: the backward of `pooling/gem` in one pass per row (the row
 * statistics are recomputed from x, so nothing but x is saved): dx and, for a p tensor, the
 * per-row dp terms. Raw (no autograd).
 */
import source from '../../../../shaders/pooling/gem_backward.wgsl';
import { defineKernel, type BindingValue } from '../../kernel.js';
import { empty, Tensor, type Shape } from '../../tensor.js';
import { rowGrid, rowThreads, rowWorkgroupOf } from '../rows.js';
import { rowPoolUniforms, type RowPoolMode } from './gem.js';

export const gemBackwardKernel = defineKernel({
  name: 'pooling/gem_backward',
  source,
  uniforms: { rows: 'u32', len: 'u32', eps: 'f32', p: 'f32' },
  bindings: [
    { name: 'g', type: 'f32', access: 'read' },
    { name: 'x', type: 'f32', access: 'read', unless: 'AVG' },
    { name: 'pbuf', type: 'f32', access: 'read', when: 'P_BUFFER', unless: 'AVG' },
    { name: 'dx', type: 'f32', access: 'read_write', when: 'WRITE_DX' },
    { name: 'dpRow', type: 'f32', access: 'read_write', when: 'WRITE_DP', unless: 'AVG' },
  ],
  workgroupSize: rowWorkgroupOf,
  snippets: ['rows'],
});

/**
 * Backward of `rowPool` for the output gradient g [rows]: dx (shaped `inShape`) when
 * `needDx`, and the per-row dp terms [rows] when `needDp` (p a tensor). x is not read for avg.
 */
export function rowPoolBackward(
  g: Tensor, x: Tensor | null, rows: number, len: number, mode: RowPoolMode, inShape: Shape, needDx = true, needDp = false,
): { dx: Tensor | null; dpRow: Tensor | null } {
  const t = rowThreads(rows, len);
  const avg = mode.avg === true;
  if (avg && !needDx) throw new Error('rowPoolBackward: average pooling has only dx to compute');
  const pBuffer = mode.p instanceof Tensor;
  const dx = needDx ? empty(inShape) : null;
  const dpRow = needDp ? empty([rows]) : null;
  const bindings: Record<string, BindingValue> = { g };
  if (!avg) {
    bindings.x = x!;
    if (pBuffer) bindings.pbuf = mode.p as Tensor;
  }
  if (dx) bindings.dx = dx;
  if (dpRow) bindings.dpRow = dpRow;
  gemBackwardKernel.dispatch({
    defines: { T: t, AVG: avg, P_BUFFER: pBuffer, WRITE_DX: needDx, WRITE_DP: needDp },
    uniforms: rowPoolUniforms(rows, len, mode),
    bindings,
    workgroups: rowGrid(rows, t),
  });
  return { dx, dpRow };
}
