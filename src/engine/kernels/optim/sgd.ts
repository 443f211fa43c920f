/**
 * Kernel `optim/sgd`: one SGD step of one parameter in place (momentum and weight decay,
 * PyTorch semantics). Raw: the `SGD` optimizer (optim/sgd.ts) calls it per parameter.
 */
import source from '../../../../shaders/optim/sgd.wgsl';
import { defineKernel } from '../../kernel.js';
import { runtime } from '../../runtime.js';
import type { Tensor } from '../../tensor.js';

const WORKGROUP = 256;

export const sgdKernel = defineKernel({
  name: 'optim/sgd',
  source,
  uniforms: { n: 'u32', first: 'u32', lr: 'f32', momentum: 'f32', weightDecay: 'f32' },
  bindings: [
    { name: 'grad', type: 'T', access: 'read' },
    { name: 'param', type: 'T', access: 'read_write' },
    { name: 'velocity', type: 'T', access: 'read_write' },
  ],
  workgroupSize: WORKGROUP,
});

export interface SgdStep {
  lr: number;
  momentum: number;
  weightDecay: number;
  /** The velocity starts at this step's gradient (PyTorch's first step). */
  first: boolean;
}

/** param -= lr * velocity, with velocity = momentum * velocity + grad + weightDecay * param. */
export function sgdUpdate(param: Tensor, grad: Tensor, velocity: Tensor, step: SgdStep): void {
  const vec4 = param.size % 4 === 0;
  const n = vec4 ? param.size / 4 : param.size;
  const rt = runtime();
  sgdKernel.dispatch({
    defines: { VEC4: vec4 },
    uniforms: { n, first: step.first ? 1 : 0, lr: step.lr, momentum: step.momentum, weightDecay: step.weightDecay },
    bindings: { grad, param, velocity },
    workgroups: rt.grid(Math.ceil(n / WORKGROUP)),
  });
}
