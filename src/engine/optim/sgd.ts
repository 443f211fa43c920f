/**
 * SGD with momentum and weight decay (PyTorch semantics), with parameter groups that each
 * have their own learning rate, momentum and decay. The update is one kernel per parameter
 * (kernels/optim/sgd.ts), on the GPU; momentum buffers live on the GPU and can be saved and
 * restored.
 */
import { sgdUpdate } from '../kernels/optim/sgd.js';
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
  /** Momentum buffers, allocated up front so the first step's memory is the steady state's. */
  private velocity = new Map<Tensor, Tensor>();
  /** Parameters whose buffer holds a velocity (PyTorch starts it at the first gradient). */
  private started = new Set<Tensor>();
  private disposed = false;

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
        this.velocity.set(p, keep(empty(p.shape)));
      }
    }
  }

  /** Applies one update from each parameter's `.grad` (parameters without a grad are skipped). */
  step(): void {
    if (this.disposed) throw new Error('SGD: step() after dispose() (the momentum buffers are gone; create a new optimizer)');
    for (const g of this.groups) {
      for (const p of g.params) {
        if (!p.grad) continue;
        if (p.grad.size !== p.size) throw new Error(`SGD: gradient ${shapeString(p.grad.shape)} does not match parameter ${p}`);
        const v = this.velocity.get(p)!;
        const first = !this.started.has(p);
        this.started.add(p);
        sgdUpdate(p, p.grad, v, { lr: g.lr, momentum: g.momentum, weightDecay: g.weightDecay, first });
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

  /** The momentum buffer of a parameter, once a step has filled it. */
  momentumBuffer(p: Tensor): Tensor | undefined {
    return this.started.has(p) ? this.velocity.get(p) : undefined;
  }

  /**
   * Frees the momentum buffers (as much GPU memory as the parameters); the parameters and their
   * gradients are left alone. The optimizer cannot step afterwards.
   */
  dispose(): void {
    for (const v of this.velocity.values()) v.dispose();
    this.velocity.clear();
    this.started.clear();
    this.disposed = true;
  }

  /** Installs a momentum buffer (when resuming); the tensor is owned by the optimizer. */
  setMomentumBuffer(p: Tensor, v: Tensor): void {
    if (v.size !== p.size) throw new Error(`SGD: momentum buffer ${shapeString(v.shape)} does not match parameter ${p}`);
    this.velocity.get(p)?.dispose();
    this.velocity.set(p, keep(v));
    this.started.add(p);
  }
}
