/**
 * Kernel `search/topk`: merges a block of scores [rows, cols] into each row's running best K
 * (scores descending, ties by lower id), in place, on the GPU. Raw: `knnSearch`
 * (ops/knn.ts) runs it after each database chunk's matrix product.
 */
import source from '../../../../shaders/search/topk.wgsl';
import { defineKernel } from '../../kernel.js';
import { runtime } from '../../runtime.js';
import { empty, type Tensor } from '../../tensor.js';

/** Slots of workgroup memory per row (shaders/search/topk.wgsl's S): 16 KiB of (f32, i32) pairs. */
export const TOPK_SLOTS = 2048;
/** The largest K the kernel keeps (half the slots: a tile must hold at least K candidates). */
export const TOPK_MAX = TOPK_SLOTS / 2;

export const topkKernel = defineKernel({
  name: 'search/topk',
  source,
  uniforms: { rows: 'u32', cols: 'u32', K: 'u32', offset: 'u32', fresh: 'u32' },
  bindings: [
    { name: 'scores', type: 'f32', access: 'read' },
    { name: 'bestScores', type: 'f32', access: 'read_write' },
    { name: 'bestIds', type: 'i32', access: 'read_write' },
  ],
  workgroupSize: 256,
});

/** The power of two the kernel keeps for k (k itself rounded up). */
export function topkSlots(k: number): number {
  return 2 ** Math.ceil(Math.log2(Math.max(1, k)));
}

/** Running state [rows, K] (scores f32, ids i32), uninitialized: the first `topkMerge` passes `fresh`. */
export function topkState(rows: number, K: number): { scores: Tensor; ids: Tensor } {
  return { scores: empty([rows, K]), ids: empty([rows, K], 'i32') };
}

/**
 * Merges scores [rows, cols] (column c = id offset + c) into the state [rows, K]; `fresh`
 * ignores what the state held (the first chunk).
 */
export function topkMerge(scores: Tensor, state: { scores: Tensor; ids: Tensor }, offset: number, fresh: boolean): void {
  const [rows, cols] = scores.shape as [number, number];
  const K = state.scores.shape[1]!;
  topkKernel.dispatch({
    uniforms: { rows, cols, K, offset, fresh: fresh ? 1 : 0 },
    bindings: { scores, bestScores: state.scores, bestIds: state.ids },
    workgroups: runtime().grid(rows),
  });
}
