/**
 * Kernel `indexing/gather`: row gather along the first axis, out[i, :] = x[index[i], :], and its
 * gradient, a scatter-add (each output element scans the index list: no float atomics in WGSL).
 * Raw: `gather` (ops/gather.ts) records.
 */
import source from '../../../../shaders/indexing/gather.wgsl';
import { defineKernel } from '../../kernel.js';
import { runtime } from '../../runtime.js';
import { empty, shapeSize, type Tensor, type Shape } from '../../tensor.js';
import { bitType } from '../elementwise/map.js';

const WORKGROUP = 256;

export const gatherKernel = defineKernel({
  name: 'indexing/gather',
  source,
  uniforms: { rows: 'u32', cols: 'u32', count: 'u32' },
  bindings: [
    { name: 'src', type: '${T}', access: 'read' },
    { name: 'index', type: 'i32', access: 'read' },
    { name: 'out', type: '${T}', access: 'read_write' },
  ],
  workgroupSize: WORKGROUP,
});

/** out[i] = x[index[i]] along the first axis (indices clamped to range), any dtype. */
export function gatherRows(x: Tensor, index: Tensor): Tensor {
  const rows = x.shape[0];
  const cols = x.size / Math.max(rows, 1);
  const count = index.shape[0];
  const out = empty([count, ...x.shape.slice(1)], x.dtype);
  gatherKernel.dispatch({
    defines: { BACKWARD: false, T: bitType(x.dtype) },
    uniforms: { rows, cols, count },
    bindings: { src: x, index, out },
    workgroups: runtime().grid(Math.ceil((count * cols) / WORKGROUP)),
  });
  return out;
}

/** The gradient of `gatherRows` into a new tensor of `inShape`: dx[r] = sum of g[i] over index[i] == r. */
export function scatterAddRows(g: Tensor, index: Tensor, inShape: Shape): Tensor {
  const rows = inShape[0];
  const cols = shapeSize(inShape) / Math.max(rows, 1);
  const count = index.shape[0];
  const dx = empty(inShape);
  gatherKernel.dispatch({
    defines: { BACKWARD: true, T: 'f32' },
    uniforms: { rows, cols, count },
    bindings: { src: g, index, out: dx },
    workgroups: runtime().grid(Math.ceil((rows * cols) / WORKGROUP)),
  });
  return dx;
}
