/**
 * The original's margin loss with distance-weighted sampling (modules/margin.py) on the engine's
 * `distanceWeightedSampling` and `marginLossWithStats`: `SampledMarginLoss` (global sampling,
 * replicas 1) or, with `replicas` N, the sampling inside each replica's slice of the batch and one
 * `MarginLoss` over all the triplets, as the original's default under DataParallel.
 */
import {
  type Tensor, distanceWeightedSampling, disposeTriplets, marginLossWithStats,
  type DistanceWeightedSamplingOptions, type MarginLossOptions, type MarginLossResult,
} from '../../engine/index.js';

export interface SampledMarginLossOptions extends MarginLossOptions, Omit<DistanceWeightedSamplingOptions, 'draws'> {}

/**
 * Distance-weighted sampling of the batch's triplets (no gradient through the sampling; over the
 * whole batch, or inside each of `options.replicas` slices), then the margin loss over them all. The index tensors
 * are released once the backward pass no longer needs them. `triplets` is T.
 */
export function sampledMarginLoss(
  embeddings: Tensor,
  beta: Tensor,
  instanceIds: ArrayLike<number>,
  seed: number | Tensor,
  options: SampledMarginLossOptions = {},
): MarginLossResult & { triplets: number } {
  const { alpha, ...sampling } = options;
  const tr = distanceWeightedSampling(embeddings, instanceIds, seed, sampling);
  try {
    return { ...marginLossWithStats(embeddings, beta, tr, alpha === undefined ? {} : { alpha }), triplets: tr.count };
  } finally {
    disposeTriplets(tr);
  }
}
