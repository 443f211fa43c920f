/**
 * Kernel `pooling/gem`: generalized-mean (GeM) or plain mean pooling of rows,
 * x viewed as [rows, len] -> [rows]. Raw (no autograd): `gem` and `globalAvgPool` build on it.
 * T threads per row (`rowThreads`), `rowWorkgroup(T)` threads per workgroup.
 */
import source from '../../../../shaders/pooling/gem.wgsl';
import { defineKernel } from '../../kernel.js';
import { empty, Tensor } from '../../tensor.js';
import { rowGrid, rowThreads, rowWorkgroupOf } from '../rows.js';

export const gemKernel = defineKernel({
  name: 'pooling/gem',
  source,
  uniforms: { rows: 'u32', len: 'u32', eps: 'f32', p: 'f32' },
  bindings: [
    { name: 'x', type: 'f32', access: 'read' },
    { name: 'pbuf', type: 'f32', access: 'read', when: 'P_BUFFER' },
    { name: 'out', type: 'f32', access: 'read_write' },
  ],
  workgroupSize: rowWorkgroupOf,
  snippets: ['rows'],
});

/** How a row is pooled. */
export interface RowPoolMode {
  /** Plain mean, no clamp (global average pooling). */
  avg?: boolean;
  /** The GeM exponent: a [1] tensor read on the GPU, or a number (Infinity: max pooling). */
  p?: Tensor | number;
  eps?: number;
}

/** The uniforms shared by the forward and backward kernels. */
export function rowPoolUniforms(rows: number, len: number, mode: RowPoolMode): { rows: number; len: number; eps: number; p: number } {
  return { rows, len, eps: mode.eps ?? 0, p: typeof mode.p === 'number' ? mode.p : 0 };
}

/** Pools rows of x viewed as [rows, len] -> [rows] (GeM or plain mean). */
export function rowPool(x: Tensor, rows: number, len: number, mode: RowPoolMode): Tensor {
  const out = empty([rows]);
  const t = rowThreads(rows, len);
  const pBuffer = mode.p instanceof Tensor;
  gemKernel.dispatch({
    defines: { T: t, AVG: mode.avg === true, P_BUFFER: pBuffer },
    uniforms: rowPoolUniforms(rows, len, mode),
    bindings: pBuffer ? { x, pbuf: mode.p as Tensor, out } : { x, out },
    workgroups: rowGrid(rows, t),
  });
  return out;
}
