/**
 * Autograd: ops record nodes on a tape in execution order (so already topologically sorted);
 * `backward` walks it once in reverse, applying each node's rule (the chain rule) and summing
 * gradients per tensor. The tape owns what backward needs: `record` takes its own handles on
 * the saved tensors (as PyTorch's `ctx.save_for_backward`), so callers may dispose theirs, and
 * releases them right after the node's rule ran.
 */
import { Tensor, shapeString } from './tensor.js';
import { keep } from './scope.js';
import { binaryMap, copyStrided, fillLike } from './kernels/elementwise/map.js';

/**
 * Input gradients from output gradients; `needs[i]` says whether input i wants one, `saved` are
 * the tensors given to `record`. Rules run with recording off and call raw kernels.
 */
export type BackwardRule = (grads: (Tensor | null)[], needs: boolean[], saved: Tensor[]) => (Tensor | null)[];

interface TapeNode {
  readonly name: string;
  inputs: Tensor[];
  outputs: Tensor[];
  backward: BackwardRule | null;
  saved: Tensor[];
}

let tape: TapeNode[] = [];
let gradEnabled = true;

/** Records an op when grad mode is on and an input requires grad; `saved` stay alive until its backward ran. */
export function record(name: string, inputs: Tensor[], outputs: Tensor[], backward: BackwardRule, saved: Tensor[] = []): void {
  if (!gradEnabled || !inputs.some((t) => t.requiresGrad)) return;
  const node: TapeNode = { name, inputs, outputs, backward, saved: saved.map((t) => keep(t.view(t.shape))) };
  for (const out of outputs) {
    out.requiresGrad = true;
    out.creator = node;
  }
  tape.push(node);
}

/**
 * Back-propagates from `output`: each node (newest first) on a path to a target gets its output
 * gradients, gives its inputs theirs, and is released. Returns the targets' gradients.
 */
function propagate(output: Tensor, seed: Tensor, isTarget: (t: Tensor) => boolean): Map<Tensor, Tensor> {
  const leads = leadsToTargets(isTarget);
  const grads = new Map<number, Tensor>([[output.id, seed]]);
  const found = new Map<Tensor, Tensor>();
  for (let n = tape.length - 1; n >= 0; n--) {
    const node = tape[n];
    const gradOutputs = node.outputs.map((o) => grads.get(o.id) ?? null);
    const needs = node.inputs.map((t) => leads.has(t.id));
    if (node.backward && gradOutputs.some((g) => g) && needs.some((x) => x)) {
      const gradInputs = node.backward(gradOutputs, needs, node.saved);
      node.inputs.forEach((input, i) => {
        const g = gradInputs[i];
        if (g && needs[i]) accumulate(grads, input, g);
        else g?.dispose();
        if (g && needs[i] && isTarget(input)) found.set(input, grads.get(input.id)!);
      });
    }
    for (const o of node.outputs) {
      if (isTarget(o)) continue; // an intermediate tensor asked for by grad()
      grads.get(o.id)?.dispose();
      grads.delete(o.id);
    }
    releaseNode(node);
  }
  return found;
}

/** Adds `g` into the gradient held for `input` (ResNet skip connections reach a tensor twice). */
function accumulate(grads: Map<number, Tensor>, input: Tensor, g: Tensor): void {
  if (g.size !== input.size) {
    throw new Error(`backward: gradient ${shapeString(g.shape)} does not match input ${shapeString(input.shape)}`);
  }
  const shaped = g.shape.join() === input.shape.join() ? g : viewAndDispose(g, input);
  const existing = grads.get(input.id);
  if (!existing) {
    grads.set(input.id, shaped);
    return;
  }
  grads.set(input.id, binaryMap('x + y', existing, shaped));
  existing.dispose();
  shaped.dispose();
}

function viewAndDispose(g: Tensor, like: Tensor): Tensor {
  const v = g.view(like.shape);
  g.dispose();
  return v;
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

function releaseNode(node: TapeNode): void {
  for (const t of node.saved) t.dispose();
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

export interface BackwardOptions {
  /** Gradient of the output; required when the output is not a single value. */
  gradient?: Tensor;
  /** Leaves to compute gradients for (default: every leaf that requires grad). */
  targets?: Tensor[];
  /** Accumulate into `leaf.grad` (true, the default) or only return the gradients. */
  accumulate?: boolean;
}

/**
 * Back-propagates from `output` through the tape. Leaf gradients are accumulated into
 * `leaf.grad` (like PyTorch, so gradient accumulation over batches works) and also returned,
 * in the order of `targets` when given. Clears the tape.
 */
export function backward(output: Tensor, options: BackwardOptions = {}): Map<Tensor, Tensor> {
  if (!output.requiresGrad) {
    throw new Error(`backward: ${output} does not require grad (no input of its ops requires grad, or it was computed under noGrad)`);
  }
  if (!options.gradient && output.size !== 1) {
    throw new Error(`backward: output has shape ${shapeString(output.shape)}; pass { gradient } for a non-scalar output`);
  }
  if (options.gradient && options.gradient.size !== output.size) {
    throw new Error(`backward: gradient shape ${shapeString(options.gradient.shape)} does not match output ${shapeString(output.shape)}`);
  }
  const targets = options.targets ? new Set(options.targets.map((t) => t.id)) : null;
  const isTarget = targets ? (t: Tensor) => targets.has(t.id) : (t: Tensor) => t.requiresGrad && t.creator === null;
  let found: Map<Tensor, Tensor>;
  const before = gradEnabled;
  gradEnabled = false;
  try {
    const seed = options.gradient ? copyStrided(options.gradient, options.gradient.shape) : fillLike(output, 1);
    found = propagate(output, seed, isTarget);
  } finally {
    gradEnabled = before;
    clearTape();
  }
  const result = new Map<Tensor, Tensor>();
  for (const [leaf, g] of found) {
    keep(g);
    if (options.accumulate === false || !leaf.grad) {
      if (options.accumulate !== false) leaf.grad = g;
      result.set(leaf, g);
      continue;
    }
    const sum = keep(binaryMap('x + y', leaf.grad, g));
    leaf.grad.dispose();
    g.dispose();
    leaf.grad = sum;
    result.set(leaf, sum);
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
