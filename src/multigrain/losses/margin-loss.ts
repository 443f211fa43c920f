/**
 * The original's `SampledMarginLoss` (modules/margin.py, global sampling) on the engine's
 * `distanceWeightedSampling` and `marginLossWithStats`.
 */
import {
  type Tensor, distanceWeightedSampling, disposeTriplets, marginLossWithStats,
  type DistanceWeightedSamplingOptions, type MarginLossOptions, type MarginLossResult,
} from '../../engine/index.js';

export interface SampledMarginLossOptions extends MarginLossOptions, Omit<DistanceWeightedSamplingOptions, 'draws'> {}

/**
 * The original's `SampledMarginLoss` (global sampling): distance-weighted sampling of the
 * batch's triplets (no gradient through the sampling), then the margin loss. The index tensors
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
