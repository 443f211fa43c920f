/**
 * Kernel `pooling/max_pool`: 2-D max pooling of [planes = N*C, H, W] -> [planes, OH, OW], one
 * thread per output, grid [blocks of 256 within a plane, plane] (in-plane coordinates by exact
 * float-reciprocal division: no integer division per value); with SAVE_INDEX the argmax
 * (in-plane index, i32) is written for the backward. f16 tensors (inference) compare in f32. Raw (no autograd): `maxPool2d` builds on it.
 */
import source from '../../../../shaders/pooling/max_pool.wgsl';
import { defineKernel } from '../../kernel.js';
import { runtime } from '../../runtime.js';
import type { Tensor } from '../../tensor.js';

const WORKGROUP = 256;

export const maxPoolKernel = defineKernel({
  name: 'pooling/max_pool',
  source,
  uniforms: {
    planes: 'u32', h: 'u32', w: 'u32', oh: 'u32', ow: 'u32', kh: 'u32', kw: 'u32',
    sh: 'u32', sw: 'u32', ph: 'u32', pw: 'u32', dh: 'u32', dw: 'u32', invOw: 'f32',
  },
  bindings: [
    { name: 'x', type: '${T}', access: 'read' },
    { name: 'out', type: '${T}', access: 'read_write' },
    { name: 'index', type: 'i32', access: 'read_write', when: 'SAVE_INDEX' },
  ],
  workgroupSize: WORKGROUP,
  snippets: ['divmod'],
  enables: { HALF: 'f16' },
});

/** The geometry of a 2-D pooling window sweep over [planes, h, w] -> [planes, oh, ow]. */
export interface PoolGeometry {
  planes: number;
  h: number;
  w: number;
  oh: number;
  ow: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  ph: number;
  pw: number;
  dh: number;
  dw: number;
}

/** Workgroup grid [blocks of `items` per plane, planes (folded into y and z above the limit)]. */
export function planeGrid(items: number, planes: number): [number, number, number] {
  const max = runtime().gpu.limits.maxComputeWorkgroupsPerDimension;
  const z = Math.ceil(planes / max);
  return [Math.ceil(items / WORKGROUP), Math.ceil(planes / z), z];
}

/** Max pooling of x into out (both dense); the argmax into `index` (i32, out's shape) when given. */
export function maxPoolForward(x: Tensor, out: Tensor, index: Tensor | null, geo: PoolGeometry): void {
  if (out.size === 0) return;
  maxPoolKernel.dispatch({
    defines: { SAVE_INDEX: index !== null, T: x.dtype, HALF: x.dtype === 'f16' },
    uniforms: { ...geo, invOw: 1 / geo.ow },
    bindings: index ? { x, out, index } : { x, out },
    workgroups: planeGrid(geo.oh * geo.ow, geo.planes),
  });
}
