/**
 * Kernel `batchnorm/apply`: one elementwise pass of a per-channel affine map over x [N, C, H, W]:
 * y = (x - mean) * (w * invstd) + b (+ residual) (ReLU) forward, dx = (x - mean) * B + C0 + dy * A
 * backward, x * scale + shift (+ residual) (ReLU) fused eval. A fused ReLU's backward is a mask
 * (the saved output > 0) read here, not a pass of its own.
 */
import source from '../../../../shaders/batchnorm/apply.wgsl';
import { defineKernel } from '../../kernel.js';
import { runtime } from '../../runtime.js';
import { empty, type Tensor } from '../../tensor.js';

const WORKGROUP = 256;

export const applyKernel = defineKernel({
  name: 'batchnorm/apply',
  source,
  uniforms: { n: 'u32', c: 'u32', hw: 'u32', oU: 'u32', oS: 'u32', oT: 'u32', oS2: 'u32' },
  bindings: [
    { name: 'x', type: '${V}', access: 'read' },
    { name: 'P', type: 'f32', access: 'read' },
    { name: 'Q', type: 'f32', access: 'read', when: 'USE_Q' },
    { name: 'y', type: '${V}', access: 'read', when: 'SECOND' },
    { name: 'residual', type: '${V}', access: 'read', when: 'RESIDUAL' },
    { name: 'mask', type: '${V}', access: 'read', when: 'MASK' },
    { name: 'out', type: '${V}', access: 'read_write' },
  ],
  workgroupSize: WORKGROUP,
});

export interface ApplyArgs {
  x: Tensor;
  /** Coefficient buffers: P holds the centre (oU) and scale (oS), Q the shift (oT) and second scale (oS2). */
  P: Tensor;
  Q?: Tensor;
  oU?: number;
  oS: number;
  oT?: number;
  y?: Tensor;
  oS2?: number;
  residual?: Tensor;
  relu?: boolean;
  /** With `y`: the y term counts only where mask > 0 (a fused ReLU's backward). */
  mask?: Tensor;
}

/** One pass of `batchnorm/apply` over x's shape [N, C, H, W], into a new tensor. */
export function batchnormApply(a: ApplyArgs): Tensor {
  const c = a.x.shape[1];
  const hw = a.x.shape[2] * a.x.shape[3];
  const out = empty(a.x.shape);
  const vec4 = hw % 4 === 0;
  const w = vec4 ? 4 : 1;
  const n = a.x.size / w;
  const center = a.oU !== undefined;
  const shift = a.oT !== undefined;
  const second = a.y !== undefined;
  const residual = a.residual !== undefined;
  const useQ = shift || second;
  const mask = second && a.mask !== undefined;
  const bindings: Record<string, Tensor> = { x: a.x, P: a.P, out };
  if (useQ) bindings.Q = a.Q ?? a.P;
  if (second) bindings.y = a.y!;
  if (residual) bindings.residual = a.residual!;
  if (mask) bindings.mask = a.mask!;
  const rt = runtime();
  applyKernel.dispatch({
    defines: { V: vec4 ? 'vec4f' : 'f32', W: `${w}u`, CENTER: center, SHIFT: shift, SECOND: second, RESIDUAL: residual, RELU: a.relu === true, USE_Q: useQ, MASK: mask },
    uniforms: { n, c, hw, oU: a.oU ?? 0, oS: a.oS, oT: a.oT ?? 0, oS2: a.oS2 ?? 0 },
    bindings,
    workgroups: rt.grid(Math.ceil(n / WORKGROUP)),
  });
  return out;
}
