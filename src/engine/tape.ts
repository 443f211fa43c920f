/**
 * Autograd: a tape of nodes in execution order (hence already topologically sorted),
 * walked once in reverse. Each node runs once however many paths reach it (ResNet skip
 * connections), gradients are summed per tensor on the GPU, the walk is pruned to what the
 * requested leaves need, and each node's saved tensors are released right after its
 * backward rule ran.
 */
import { Tensor, type Storage, shapeString, setBackwardActive } from './tensor.js';
import { keep } from './scope.js';

/** Computes input gradients from output gradients; `needs[i]` says whether input i wants one. */
export type BackwardRule = (gradOutputs: (Tensor | null)[], needs: boolean[]) => (Tensor | null)[];

export interface TapeNode {
  readonly name: string;
  inputs: Tensor[];
  outputs: Tensor[];
  backward: BackwardRule | null;
  saved: Storage[];
}

let tape: TapeNode[] = [];
let gradEnabled = true;

/** Number of nodes currently recorded (for tests and leak checks). */
export function tapeLength(): number {
  return tape.length;
}

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs `fn` without recording autograd nodes (evaluation, feature extraction, updates). */
export function noGrad<T>(fn: () => T): T {
  const before = gradEnabled;
  gradEnabled = false;
  try {
    const result = fn();
    if (result instanceof Promise) {
      throw new Error('noGrad(fn): fn must be synchronous; wrap each synchronous step instead');
    }
    return result;
  } finally {
    gradEnabled = before;
  }
}

/**
 * Records an op on the tape when grad mode is on and an input requires grad.
 * `saved` tensors stay alive (even if disposed by the caller) until the node's backward ran.
 */
export function record(name: string, inputs: Tensor[], outputs: Tensor[], backward: BackwardRule, saved: Tensor[] = []): void {
  if (!gradEnabled || !inputs.some((t) => t.requiresGrad)) return;
  const storages = saved.map((t) => {
    const s = t.liveStorage(name);
    s.retain();
    return s;
  });
  const node: TapeNode = { name, inputs, outputs, backward, saved: storages };
  for (const out of outputs) {
    out.requiresGrad = true;
    out.creator = node;
  }
  tape.push(node);
}

function releaseNode(node: TapeNode): void {
  for (const s of node.saved) s.release();
  node.saved = [];
  node.backward = null;
  node.inputs = [];
  node.outputs = [];
}

/** Forgets every recorded node (releasing what they saved). */
export function clearTape(): void {
  for (const node of tape) releaseNode(node);
  tape = [];
}

export interface BackwardOptions {
  /** Gradient of the output; required when the output is not a single value. */
  gradient?: Tensor;
  /** Leaves to compute gradients for (default: every leaf that requires grad). */
  targets?: Tensor[];
  /** Accumulate into `leaf.grad` (true, the default) or only return the gradients. */
  accumulate?: boolean;
}

/** The ops the engine needs for accumulation, injected to keep tape.ts below the ops. */
export interface GradMath {
  add(a: Tensor, b: Tensor): Tensor;
  onesLike(t: Tensor): Tensor;
  copy(t: Tensor): Tensor;
}
let math: GradMath | null = null;
export function setGradMath(m: GradMath): void {
  math = m;
}

/**
 * Back-propagates from `output` through the tape. Leaf gradients are accumulated into
 * `leaf.grad` (like PyTorch, so gradient accumulation over batches works) and also returned,
 * in the order of `targets` when given. Clears the tape.
 */
export function backward(output: Tensor, options: BackwardOptions = {}): Map<Tensor, Tensor> {
  if (!math) throw new Error('backward: engine ops are not loaded');
  const m = math;
  if (!output.requiresGrad) {
    throw new Error(`backward: ${output} does not require grad (no input of its ops requires grad, or it was computed under noGrad)`);
  }
  if (!options.gradient && output.size !== 1) {
    throw new Error(`backward: output has shape ${shapeString(output.shape)}; pass { gradient } for a non-scalar output`);
  }
  if (options.gradient && options.gradient.size !== output.size) {
    throw new Error(`backward: gradient shape ${shapeString(options.gradient.shape)} does not match output ${shapeString(output.shape)}`);
  }
  const isTarget = targetPredicate(options.targets);
  const leads = leadsToTargets(isTarget);
  const grads = new Map<number, Tensor>();
  grads.set(output.id, options.gradient ? m.copy(options.gradient) : m.onesLike(output));
  const leafGrads = new Map<Tensor, Tensor>();
  const saved = isGradEnabledSwap(false);
  setBackwardActive(true);
  try {
    for (let n = tape.length - 1; n >= 0; n--) {
      const node = tape[n];
      const gradOutputs = node.outputs.map((o) => grads.get(o.id) ?? null);
      const needs = node.inputs.map((t) => leads.has(t.id));
      if (node.backward && gradOutputs.some((g) => g) && needs.some((x) => x)) {
        const gradInputs = node.backward(gradOutputs, needs);
        node.inputs.forEach((input, i) => {
          const g = gradInputs[i];
          if (!g || !needs[i]) {
            g?.dispose();
            return;
          }
          accumulate(grads, input, g, m);
          if (isTarget(input)) leafGrads.set(input, grads.get(input.id)!);
        });
      }
      for (const o of node.outputs) {
        if (isTarget(o)) continue; // an intermediate tensor asked for by grad()
        grads.get(o.id)?.dispose();
        grads.delete(o.id);
      }
      releaseNode(node);
    }
  } finally {
    setBackwardActive(false);
    isGradEnabledSwap(saved);
    clearTape();
  }
  const result = new Map<Tensor, Tensor>();
  for (const [leaf, g] of leafGrads) {
    keep(g);
    if (options.accumulate === false) {
      result.set(leaf, g);
    } else if (leaf.grad) {
      const sum = noGrad(() => m.add(leaf.grad!, g));
      leaf.grad.dispose();
      g.dispose();
      leaf.grad = keep(sum);
      result.set(leaf, sum);
    } else {
      leaf.grad = g;
      result.set(leaf, g);
    }
  }
  return result;
}

/**
 * Gradients of `output` with respect to `targets` only (the walk is pruned to them),
 * returned in order; `.grad` is not touched. Tensors that do not influence the output get null.
 */
export function grad(output: Tensor, targets: Tensor[], gradient?: Tensor): (Tensor | null)[] {
  const result = backward(output, { targets, accumulate: false, ...(gradient ? { gradient } : {}) });
  return targets.map((t) => result.get(t) ?? null);
}

function isGradEnabledSwap(value: boolean): boolean {
  const before = gradEnabled;
  gradEnabled = value;
  return before;
}

function targetPredicate(targets?: Tensor[]): (t: Tensor) => boolean {
  if (targets) {
    const ids = new Set(targets.map((t) => t.id));
    return (t) => ids.has(t.id);
  }
  return (t) => t.requiresGrad && t.creator === null;
}

/** Ids of tensors on a path to a target (so only needed gradients are computed). */
function leadsToTargets(isTarget: (t: Tensor) => boolean): Set<number> {
  const leads = new Set<number>();
  for (const node of tape) {
    for (const input of node.inputs) if (isTarget(input)) leads.add(input.id);
    if (node.inputs.some((t) => leads.has(t.id))) for (const o of node.outputs) leads.add(o.id);
  }
  return leads;
}

function accumulate(grads: Map<number, Tensor>, input: Tensor, g: Tensor, m: GradMath): void {
  if (g.size !== input.size) {
    throw new Error(`backward: gradient ${shapeString(g.shape)} does not match input ${shapeString(input.shape)}`);
  }
  const existing = grads.get(input.id);
  if (!existing) {
    grads.set(input.id, g.shape.join() === input.shape.join() ? g : viewAndDispose(g, input));
    return;
  }
  const sum = m.add(existing, g.shape.join() === existing.shape.join() ? g : g.view(existing.shape));
  existing.dispose();
  g.dispose();
  grads.set(input.id, sum);
}

function viewAndDispose(g: Tensor, like: Tensor): Tensor {
  const v = g.view(like.shape);
  g.dispose();
  return v;
}
