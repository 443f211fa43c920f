/**
 * MultiGrain's margin loss (modules/margin.py `MarginLoss`) over sampled triplets, on the GPU:
 *
 *   d_ap = sqrt(|a - p|² + 1e-8),  d_an = sqrt(|a - n|² + 1e-8)
 *   loss = sum_t [relu(d_ap - beta + alpha) + relu(beta - d_an + alpha)] / max(active, 1)
 *
 * where `active` counts the strictly positive terms (positive and negative terms separately)
 * and is a constant for the gradient. Gradients flow to the embeddings (through the row
 * gathers, scattered back without float atomics, in a fixed order: bit-reproducible) and to
 * the learnable scalar beta. Nothing is read back: `active` stays on the GPU for metrics.
 *
 * Kernels (src/engine/kernels/losses/): `margin_distance` (the distances), `margin_reduce`
 * (the loss forward; the distances' coefficients and dBeta backward), `margin_csr` and
 * `margin_grad` (the embeddings' gradient).
 */
import { type Tensor, shapeString } from '../tensor.js';
import { record } from '../tape.js';
import { checkFloat, checkDtype } from '../checks.js';
import { marginDistances } from '../kernels/losses/margin_distance.js';
import { marginReduce, marginCoefficients } from '../kernels/losses/margin_reduce.js';
import { marginEmbeddingGrad } from '../kernels/losses/margin_grad.js';

/** Triplet index tensors (i32 [T] each), e.g. from `distanceWeightedSampling`. */
export interface TripletIndices {
  anchors: Tensor;
  positives: Tensor;
  negatives: Tensor;
}

export interface MarginLossOptions {
  /** The margin alpha (default 0.2). */
  alpha?: number;
}

export interface MarginLossResult {
  /** The loss, a scalar (shape []) on the tape. */
  loss: Tensor;
  /** Number of strictly positive terms, f32 [1] (not differentiable). */
  activeTerms: Tensor;
}

/** The margin loss and its number of active terms. */
export function marginLossWithStats(
  embeddings: Tensor,
  beta: Tensor,
  triplets: TripletIndices,
  options: MarginLossOptions = {},
): MarginLossResult {
  const op = 'marginLoss';
  checkFloat(op, embeddings, beta);
  const { anchors, positives, negatives } = triplets;
  for (const t of [anchors, positives, negatives]) checkDtype(op, t, ['i32']);
  if (embeddings.rank !== 2 || embeddings.shape[0] < 1) {
    throw new Error(`${op}: embeddings must be [B, C] with B >= 1, got ${shapeString(embeddings.shape)}`);
  }
  if (beta.size !== 1) throw new Error(`${op}: beta must hold one value, got ${shapeString(beta.shape)}`);
  if (anchors.rank !== 1 || positives.rank !== 1 || negatives.rank !== 1 ||
      positives.shape[0] !== anchors.shape[0] || negatives.shape[0] !== anchors.shape[0]) {
    throw new Error(
      `${op}: anchors, positives and negatives must be [T] each, got ${shapeString(anchors.shape)}, ` +
        `${shapeString(positives.shape)} and ${shapeString(negatives.shape)}`,
    );
  }
  const alpha = options.alpha ?? 0.2;
  const dist = marginDistances(embeddings, anchors, positives, negatives);
  const { loss, activeTerms } = marginReduce(dist, beta, alpha);
  const betaShape = beta.shape;
  record(op, [embeddings, beta], [loss], ([g], needs, [embeddings, beta, anchors, positives, negatives, dist, activeTerms]) => {
    const { coef, dBeta } = marginCoefficients(dist, beta, activeTerms, g!, alpha, betaShape);
    const dx = needs[0] ? marginEmbeddingGrad(embeddings, anchors, positives, negatives, coef) : null;
    coef.dispose();
    if (!needs[1]) {
      dBeta.dispose();
      return [dx, null];
    }
    return [dx, dBeta];
  }, [embeddings, beta, anchors, positives, negatives, dist, activeTerms]);
  dist.dispose();
  return { loss, activeTerms };
}

/** The margin loss (a scalar on the tape); see `marginLossWithStats` for the active-term count. */
export function marginLoss(embeddings: Tensor, beta: Tensor, triplets: TripletIndices, options: MarginLossOptions = {}): Tensor {
  const { loss, activeTerms } = marginLossWithStats(embeddings, beta, triplets, options);
  activeTerms.dispose();
  return loss;
}
