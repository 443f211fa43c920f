/**
 * Kernel `losses/cross_entropy`: softmax cross-entropy with integer labels, one workgroup per
 * row; forward (per-row losses and the softmax) and backward. Raw: `crossEntropy`
 * (ops/cross-entropy.ts) averages and records.
 */
import source from '../../../../shaders/losses/cross_entropy.wgsl';
import { defineKernel } from '../../kernel.js';
import { runtime } from '../../runtime.js';
import { empty, type Tensor } from '../../tensor.js';

export const crossEntropyKernel = defineKernel({
  name: 'losses/cross_entropy',
  source,
  uniforms: { rows: 'u32', cols: 'u32', scale: 'f32' },
  bindings: [
    { name: 'x', type: 'f32', access: 'read', when: 'FORWARD' },
    { name: 'probs', type: 'f32', access: 'read', unless: 'FORWARD' },
    { name: 'labels', type: 'i32', access: 'read' },
    { name: 'gradOut', type: 'f32', access: 'read', unless: 'FORWARD' },
    { name: 'probs', type: 'f32', access: 'read_write', when: 'FORWARD' },
    { name: 'rowLoss', type: 'f32', access: 'read_write', when: 'FORWARD' },
    { name: 'dx', type: 'f32', access: 'read_write', unless: 'FORWARD' },
  ],
  workgroupSize: 64,
});

/** Per-row losses [rows] (NaN for a label outside [0, C)) and softmax [rows, cols] of logits [rows, cols]. */
export function crossEntropyForward(logits: Tensor, labels: Tensor): { rowLoss: Tensor; probs: Tensor } {
  const [rows, cols] = logits.shape;
  const probs = empty([rows, cols]);
  const rowLoss = empty([rows]);
  crossEntropyKernel.dispatch({
    defines: { FORWARD: true },
    uniforms: { rows, cols, scale: 1 / rows },
    bindings: { x: logits, labels, probs, rowLoss },
    workgroups: runtime().grid(rows),
  });
  return { rowLoss, probs };
}

/** dlogits = (probs - onehot(labels)) * gradOut[0] / rows, for the mean over rows. */
export function crossEntropyBackward(probs: Tensor, labels: Tensor, gradOut: Tensor): Tensor {
  const [rows, cols] = probs.shape;
  const dx = empty([rows, cols]);
  crossEntropyKernel.dispatch({
    defines: { FORWARD: false },
    uniforms: { rows, cols, scale: 1 / rows },
    bindings: { probs, labels, gradOut, dx },
    workgroups: runtime().grid(rows),
  });
  return dx;
}
