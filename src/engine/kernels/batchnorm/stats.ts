/**
 * Kernel `batchnorm/stats`: one thread per channel combines the chunk partials of
 * `batchnorm/reduce` into the batch statistics (and updates the running estimates in place),
 * or the backward coefficients; or turns running estimates into statistics (eval) or into a
 * folded scale and shift. See shaders/batchnorm/stats.wgsl for each mode's outputs.
 */
import source from '../../../../shaders/batchnorm/stats.wgsl';
import { defineKernel, type BindingSpec } from '../../kernel.js';
import type { Tensor } from '../../tensor.js';

export type StatsMode = 'TRAIN' | 'EVAL' | 'FOLD' | 'BACKWARD' | 'PLAIN';

/** The buffers of one mode, in binding order (f32, bound only in that mode). */
function mode(define: string, buffers: Array<[string, 'read' | 'read_write']>): BindingSpec[] {
  return buffers.map(([name, access]) => ({ name, type: 'f32', access, when: define }));
}

const WORKGROUP = 64;

export const statsKernel = defineKernel({
  name: 'batchnorm/stats',
  source,
  uniforms: { c: 'u32', chunks: 'u32', hw: 'u32', m: 'u32', eps: 'f32', momentum: 'f32' },
  bindings: [
    ...mode('MODE_TRAIN', [['partials', 'read'], ['x', 'read'], ['weight', 'read'], ['bias', 'read'], ['runningMean', 'read_write'], ['runningVar', 'read_write'], ['stats', 'read_write']]),
    ...mode('MODE_EVAL', [['weight', 'read'], ['bias', 'read'], ['runningMean', 'read'], ['runningVar', 'read'], ['stats', 'read_write']]),
    ...mode('MODE_FOLD', [['weight', 'read'], ['bias', 'read'], ['runningMean', 'read'], ['runningVar', 'read'], ['scale', 'read_write'], ['shift', 'read_write']]),
    ...mode('MODE_BACKWARD', [['partials', 'read'], ['stats', 'read'], ['weight', 'read'], ['dweight', 'read_write'], ['dbias', 'read_write'], ['coef', 'read_write']]),
    ...mode('MODE_PLAIN', [['partials', 'read'], ['sums', 'read_write']]),
  ],
  workgroupSize: WORKGROUP,
});

/** Runs one mode over `c` channels; `buffers` by the names of that mode's bindings. */
export function batchnormStats(
  statsMode: StatsMode, c: number, buffers: Record<string, Tensor>,
  p: { chunks?: number; hw?: number; m?: number; eps?: number; momentum?: number },
): void {
  statsKernel.dispatch({
    defines: {
      MODE_TRAIN: statsMode === 'TRAIN', MODE_EVAL: statsMode === 'EVAL', MODE_FOLD: statsMode === 'FOLD',
      MODE_BACKWARD: statsMode === 'BACKWARD', MODE_PLAIN: statsMode === 'PLAIN',
    },
    uniforms: { c, chunks: p.chunks ?? 0, hw: p.hw ?? 0, m: p.m ?? 0, eps: p.eps ?? 0, momentum: p.momentum ?? 0 },
    bindings: buffers,
    workgroups: [Math.ceil(c / WORKGROUP)],
  });
}
