/**
 * Distance-weighted sampling of (anchor, positive, negative) triplets inside a batch
 * (Wu et al. 2017, "Sampling matters in deep embedding learning"), as MultiGrain's
 * `DistanceWeightedSampling` does it, with the negatives drawn on the GPU.
 *
 * What runs where:
 * - CPU, from the instance ids only (the RA sampler knows the batch composition before the
 *   batch reaches the GPU): the triplet *structure*. Anchor i whose instance has k copies in
 *   the batch gives k - 1 triplets, one per other copy j (positive), in the order of the
 *   original (anchors ascending, positives ascending); singletons (k = 1) give none, and so
 *   does every anchor of a batch with a single instance (no negative exists; the original
 *   crashes there). T = sum of (k_i - 1) is therefore known on the CPU.
 * - GPU, with no readback: the Gram matrix (`matmulRaw(x, x, false, true)`), the log weights,
 *   their global max, the masks, and the choice of the k - 1 negatives of every anchor
 *   (kernels losses/distance_weighted_rowmax and losses/distance_weighted_sampling):
 *   Gumbel-top-k of `log w + Gumbel noise` is sampling without
 *   replacement proportional to w (the distribution of numpy's `choice(replace=False, p=w)`);
 *   rows with fewer than k - 1 non-zero weights draw with replacement, and rows whose weights
 *   are all zero draw uniformly over the other instances, like the original.
 *
 * Weights: d = max(sqrt(|x_i|² + |x_j|² - 2 x_i·x_j + [i = j]), 0.5);
 * log w = (2 - C) log d - ((C - 3)/2) log(1 - d²/4); w = exp(log w - max over the whole matrix);
 * w = 0 for the same instance, for d >= 1.4, and where exp(log w - max) rounds to 0 in f32
 * (log w - max <= ln 2^-150, IEEE f32 with denormals, as on the CUDA GPUs the original ran on;
 * the kernel works in log space, so it never computes the exp and no GPU's denormal flushing
 * changes the result). Large C makes this common: at C = 2048, log w(0.5) - log w(1.2) is
 * about 1400, so a batch whose closest pair sits at the 0.5 clamp leaves most rows all-zero,
 * and those draw uniformly, exactly as the original does.
 * Two guards the original lacks (it gives NaN there): |x_i - x_j|² is clamped at 0 before the
 * square root, and 1 - d²/4 at 1e-8 (antipodal embeddings).
 *
 * Replicas (`replicas` N > 1): the batch is cut into N contiguous slices of ceil(B / N) rows, the
 * last one shorter (torch's `chunk`, as DataParallel scatters a batch over N GPUs), and everything
 * above happens inside each slice, as each replica of the original runs DistanceWeightedSampling
 * on its own share (multigrain/lib/multigrain.py, `include_sampling` under nn.DataParallel):
 * positives and negatives come from the anchor's slice, the max of the log weights is the slice's,
 * and a slice holding a single instance gives no triplets. The kernels take the slice size as a
 * uniform, so N slices cost one dispatch each pass, as the whole batch does; N = 1 is the global
 * sampling (the original's --global-sampling).
 *
 * Noise is a counter-based hash of (seed, step, anchor, candidate, draw): the same seed and step
 * give the same triplets on every run and device, whatever else ran before.
 */
import { Tensor, empty, tensor, shapeString } from '../tensor.js';
import { checkFloat, checkDtype } from '../checks.js';
import { matmulRaw } from './matmul.js';
import { distanceWeightRowmax } from '../kernels/losses/distance_weighted_rowmax.js';
import { DWS_MAX_BATCH, drawNegatives } from '../kernels/losses/distance_weighted_sampling.js';

export { DWS_MAX_BATCH };

/** The triplet layout decided on the CPU from the instance ids. */
export interface TripletStructure {
  /** Number of triplets T. */
  count: number;
  /** Anchor row of each triplet [T]. */
  anchors: Int32Array;
  /** Positive row of each triplet [T]. */
  positives: Int32Array;
  /**
   * For each anchor that has negatives to draw: (row i, first triplet slot, number n = k - 1);
   * its negatives go to slots offset .. offset + n - 1, next to its positives.
   */
  rows: Int32Array;
}

/** Sampled triplets: i32 index tensors [T] into the batch (negatives [draws, T] when draws > 1). */
export interface Triplets {
  anchors: Tensor;
  positives: Tensor;
  negatives: Tensor;
  /** T, the number of triplets (known on the CPU; 0 when the batch has no usable anchor). */
  count: number;
}

export interface DistanceWeightedSamplingOptions {
  /** Lower clamp of the distances (default 0.5). */
  cutoff?: number;
  /** Pairs at this distance or more get weight 0 (default 1.4). */
  nonzeroLossCutoff?: number;
  /** Training step, mixed into the noise with the seed (default 0). */
  step?: number;
  /**
   * Independent draws of the negatives in one dispatch (default 1); draw d is exactly what
   * `step + d` gives. The negatives tensor is then [draws, T] (for statistics and benchmarks).
   */
  draws?: number;
  /**
   * Replicas N (default 1: the whole batch): triplets are drawn inside each of N contiguous
   * slices of ceil(B / N) rows, as the original under DataParallel on N GPUs.
   */
  replicas?: number;
}

/** Rows per slice when a batch of B rows is split over `replicas` (torch's chunk: ceil(B / N)). */
export function replicaSliceSize(B: number, replicas: number): number {
  if (!Number.isInteger(replicas) || replicas < 1) throw new Error(`distanceWeightedSampling: replicas must be a positive integer, got ${replicas}`);
  return Math.max(1, Math.ceil(B / replicas));
}

/**
 * The triplet structure for a batch with these instance ids (CPU, O(B²) at most), each triplet
 * inside one of the contiguous slices of `replicas` (see replicaSliceSize).
 */
export function tripletStructure(ids: ArrayLike<number>, replicas = 1): TripletStructure {
  const B = ids.length;
  const slice = replicaSliceSize(B, replicas);
  const anchors: number[] = [];
  const positives: number[] = [];
  const rows: number[] = [];
  for (let start = 0; start < B; start += slice) sliceTriplets(ids, start, Math.min(start + slice, B), anchors, positives, rows);
  return { count: anchors.length, anchors: Int32Array.from(anchors), positives: Int32Array.from(positives), rows: Int32Array.from(rows) };
}

/** Appends the triplets of rows [start, end) of the batch: anchors ascending, positives ascending. */
function sliceTriplets(ids: ArrayLike<number>, start: number, end: number, anchors: number[], positives: number[], rows: number[]): void {
  const groups = new Map<number, number[]>();
  for (let i = start; i < end; i++) {
    const id = ids[i];
    if (!Number.isInteger(id)) throw new Error(`distanceWeightedSampling: instance id ${id} at index ${i} is not an integer`);
    let g = groups.get(id);
    if (!g) groups.set(id, (g = []));
    g.push(i);
  }
  if (groups.size < 2) return; // a single instance: no negative exists
  for (let i = start; i < end; i++) {
    const same = groups.get(ids[i])!;
    if (same.length < 2) continue;
    rows.push(i, anchors.length, same.length - 1);
    for (const j of same) {
      if (j === i) continue;
      anchors.push(i);
      positives.push(j);
    }
  }
}

/**
 * Samples triplets for a batch of L2-normalized embeddings [B, C] whose instance ids are given
 * on the host (one per row; equal ids are copies of one image). `seed` is a u32 number or a
 * u32/i32 tensor whose first element is the seed (so it can live on the GPU). No autograd: the
 * indices are constants for the loss, as in the original.
 */
export function distanceWeightedSampling(
  embeddings: Tensor,
  instanceIds: ArrayLike<number>,
  seed: number | Tensor,
  options: DistanceWeightedSamplingOptions = {},
): Triplets {
  checkFloat('distanceWeightedSampling', embeddings);
  if (embeddings.rank !== 2) {
    throw new Error(`distanceWeightedSampling: embeddings must be [B, C], got ${shapeString(embeddings.shape)}`);
  }
  if (instanceIds instanceof Tensor) {
    throw new Error('distanceWeightedSampling: pass the instance ids as host numbers (Int32Array or array): the triplet structure is laid out on the CPU');
  }
  const [B, C] = embeddings.shape;
  if (instanceIds.length !== B) {
    throw new Error(`distanceWeightedSampling: ${instanceIds.length} instance ids for embeddings ${shapeString(embeddings.shape)}`);
  }
  if (B > DWS_MAX_BATCH) {
    throw new Error(`distanceWeightedSampling: batch of ${B} is above the maximum of ${DWS_MAX_BATCH}`);
  }
  const draws = options.draws ?? 1;
  const step = options.step ?? 0;
  const cutoff = options.cutoff ?? 0.5;
  const nonzero = options.nonzeroLossCutoff ?? 1.4;
  if (!Number.isInteger(draws) || draws < 1) throw new Error(`distanceWeightedSampling: draws must be a positive integer, got ${draws}`);
  if (!Number.isInteger(step) || step < 0 || step > 0xffffffff) throw new Error(`distanceWeightedSampling: step must be a u32, got ${step}`);
  if (typeof seed === 'number') {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new Error(`distanceWeightedSampling: seed must be a u32, got ${seed}`);
  } else {
    checkDtype('distanceWeightedSampling', seed, ['u32', 'i32']);
    if (seed.size < 1) throw new Error('distanceWeightedSampling: the seed tensor is empty');
  }

  const slice = replicaSliceSize(B, options.replicas ?? 1);
  const s = tripletStructure(instanceIds, options.replicas ?? 1);
  const T = s.count;
  const A = s.rows.length / 3;
  const anchors = tensor(s.anchors, [T], 'i32');
  const positives = tensor(s.positives, [T], 'i32');
  const negatives = empty(draws === 1 ? [T] : [draws, T], 'i32');
  if (T === 0) return { anchors, positives, negatives, count: 0 };

  const ids = tensor(Int32Array.from(instanceIds), [B], 'i32');
  const rows = tensor(s.rows, [A * 3], 'i32');
  const gram = matmulRaw(embeddings, embeddings, false, true);
  const rowmax = distanceWeightRowmax(gram, C, cutoff, slice);
  drawNegatives({ gram, rowmax, C, ids, info: rows, negatives, seed, step, draws, T, cutoff, nonzeroCutoff: nonzero, slice });
  for (const t of [ids, rows, gram, rowmax]) t.dispose();
  return { anchors, positives, negatives, count: T };
}

/** Disposes the three index tensors of a sampling result. */
export function disposeTriplets(t: Triplets): void {
  t.anchors.dispose();
  t.positives.dispose();
  t.negatives.dispose();
}
