/**
 * Kernel `losses/distance_weighted_sampling`: distance-weighted sampling, pass 2: the negatives
 * of every (anchor, draw), one workgroup of 64 threads each (Gumbel-top-k in log space, with a
 * counter-based noise hash). Raw (no autograd).
 */
import source from '../../../../shaders/losses/distance_weighted_sampling.wgsl';
import { defineKernel } from '../../kernel.js';
import { runtime } from '../../runtime.js';
import type { Tensor } from '../../tensor.js';

/** Largest batch the sampling kernel handles (its per-row workgroup buffer). */
export const DWS_MAX_BATCH = 2048;

export const distanceWeightedSamplingKernel = defineKernel({
  name: 'losses/distance_weighted_sampling',
  source,
  uniforms: {
    B: 'u32', C: 'f32', A: 'u32', draws: 'u32', seed: 'u32', step: 'u32', T: 'u32',
    cutoff: 'f32', nonzeroCutoff: 'f32', slice: 'u32',
  },
  bindings: [
    { name: 'gram', type: 'f32', access: 'read' },
    { name: 'rowmax', type: 'f32', access: 'read' },
    { name: 'ids', type: 'i32', access: 'read' },
    /** Per anchor with negatives to draw: (row i, first triplet slot, number n). */
    { name: 'info', type: 'i32', access: 'read' },
    { name: 'negs', type: 'i32', access: 'read_write' },
    { name: 'seedBuf', type: 'u32', access: 'read', when: 'SEED_BUFFER' },
  ],
  workgroupSize: 64,
  snippets: ['distanceWeights'],
});

export interface NegativeDraws {
  /** Gram matrix [B, B] of the embeddings, and its row maxima of the log weights [B]. */
  gram: Tensor;
  rowmax: Tensor;
  /** Embedding size. */
  C: number;
  /** Instance ids [B] (i32) and the anchors' (row, slot, count) triples [3A] (i32). */
  ids: Tensor;
  info: Tensor;
  /** Output: i32 [draws, T]. */
  negatives: Tensor;
  /** A u32 number, or a u32/i32 tensor whose element 0 is the seed. */
  seed: number | Tensor;
  step: number;
  draws: number;
  T: number;
  cutoff: number;
  nonzeroCutoff: number;
  /** Rows per contiguous slice: negatives come from the anchor's slice only (B: the whole batch). */
  slice: number;
}

/** Draws the negatives of every anchor into `args.negatives`. */
export function drawNegatives(args: NegativeDraws): void {
  const B = args.gram.shape[0];
  const A = args.info.size / 3;
  const seedBuffer = typeof args.seed !== 'number';
  distanceWeightedSamplingKernel.dispatch({
    defines: { SEED_BUFFER: seedBuffer, MAX_B: DWS_MAX_BATCH },
    uniforms: {
      B, C: args.C, A, draws: args.draws, seed: seedBuffer ? 0 : (args.seed as number), step: args.step, T: args.T,
      cutoff: args.cutoff, nonzeroCutoff: args.nonzeroCutoff, slice: args.slice,
    },
    bindings: {
      gram: args.gram, rowmax: args.rowmax, ids: args.ids, info: args.info, negs: args.negatives,
      ...(seedBuffer ? { seedBuf: args.seed as Tensor } : {}),
    },
    workgroups: runtime().grid(A * args.draws),
  });
}
