/**
 * SGD with momentum and weight decay (PyTorch semantics), with parameter groups that each
 * have their own learning rate, momentum and decay. The update is one WGSL kernel per
 * parameter, on the GPU; momentum buffers live on the GPU and can be saved and restored.
 */
import sgdSource from '../../../shaders/sgd.wgsl';
import { runtime } from '../runtime.js';
import { Uniforms } from '../uniforms.js';
import { empty, type Tensor, shapeString } from '../tensor.js';
import { keep } from '../scope.js';

export interface ParamGroup {
  params: Tensor[];
  lr: number;
  momentum?: number;
  weightDecay?: number;
  /** Optional name, used when saving the optimizer state. */
  name?: string;
}

interface GroupState extends Required<Omit<ParamGroup, 'name'>> {
  name: string;
}

export class SGD {
  readonly groups: GroupState[];
  private velocity = new Map<Tensor, Tensor>();

  constructor(groups: ParamGroup[]) {
    this.groups = groups.map((g, i) => ({
      params: g.params,
      lr: g.lr,
      momentum: g.momentum ?? 0,
      weightDecay: g.weightDecay ?? 0,
      name: g.name ?? `group${i}`,
    }));
    for (const g of this.groups) {
      for (const p of g.params) {
        if (!p.requiresGrad) throw new Error(`SGD: parameter ${p} does not require grad`);
      }
    }
  }

  /** Applies one update from each parameter's `.grad` (parameters without a grad are skipped). */
  step(): void {
    const rt = runtime();
    for (const g of this.groups) {
      for (const p of g.params) {
        if (!p.grad) continue;
        if (p.grad.size !== p.size) throw new Error(`SGD: gradient ${shapeString(p.grad.shape)} does not match parameter ${p}`);
        let v = this.velocity.get(p);
        const first = !v;
        if (!v) {
          v = keep(empty(p.shape));
          this.velocity.set(p, v);
        }
        const u = new Uniforms().u32(p.size).u32(first ? 1 : 0).f32(g.lr).f32(g.momentum).f32(g.weightDecay).u32(0).u32(0).u32(0);
        rt.dispatch({ name: 'sgd', source: sgdSource }, { uniforms: u, buffers: [p.grad.buffer, p.buffer, v.buffer], workgroups: rt.grid(Math.ceil(p.size / 256)) });
      }
    }
  }

  /** Drops every parameter's gradient (the next backward starts from zero). */
  zeroGrad(): void {
    for (const g of this.groups) {
      for (const p of g.params) {
        p.grad?.dispose();
        p.grad = null;
      }
    }
  }

  /** Multiplies every group's learning rate (step schedules). */
  scaleLr(factor: number): void {
    for (const g of this.groups) g.lr *= factor;
  }

  /** The momentum buffer of a parameter, if a step has created it. */
  momentumBuffer(p: Tensor): Tensor | undefined {
    return this.velocity.get(p);
  }

  /** Installs a momentum buffer (when resuming); the tensor is owned by the optimizer. */
  setMomentumBuffer(p: Tensor, v: Tensor): void {
    if (v.size !== p.size) throw new Error(`SGD: momentum buffer ${shapeString(v.shape)} does not match parameter ${p}`);
    this.velocity.get(p)?.dispose();
    this.velocity.set(p, keep(v));
  }
}
