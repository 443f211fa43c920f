/** Applies steps in order, disposing each intermediate as soon as the next step consumed it. */
import type { Tensor } from '../engine/index.js';

/**
 * `chain(x, f, g, h)` = h(g(f(x))), where f(x) and g(f(x)) are disposed right after use
 * (autograd keeps whatever it saved). The input `x` belongs to the caller and is kept.
 */
export function chain(x: Tensor, ...steps: Array<(t: Tensor) => Tensor>): Tensor {
  let current = x;
  for (const step of steps) {
    const next = step(current);
    if (current !== x) current.dispose();
    current = next;
  }
  return current;
}
