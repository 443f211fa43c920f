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
 */
import distSource from '../../../shaders/margin_dist.wgsl';
import reduceSource from '../../../shaders/margin_reduce.wgsl';
import gradSource from '../../../shaders/margin_grad.wgsl';
import {
  type Tensor, runtime, Uniforms, empty, record, shapeString, checkFloat, checkDtype,
} from '../../engine/index.js';
import { distanceWeightedSampling, disposeTriplets, type DistanceWeightedSamplingOptions } from './distance-weighted-sampling.js';

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
  const [B, C] = embeddings.shape;
  const T = anchors.shape[0];
  const rt = runtime();

  const dist = empty([2 * T]);
  if (T > 0) {
    rt.dispatchSource(
      { name: 'margin_dist', source: distSource },
      { uniforms: new Uniforms().u32(B).u32(C).u32(T).u32(0), buffers: [embeddings.buffer, anchors.buffer, positives.buffer, negatives.buffer, dist.buffer], workgroups: rt.grid(T) },
    );
  }
  const loss = empty([]);
  const activeTerms = empty([1]);
  rt.dispatchSource(
    { name: 'margin_reduce', source: reduceSource, defines: { FORWARD: true } },
    { uniforms: new Uniforms().u32(T).f32(alpha).u32(0).u32(0), buffers: [dist.buffer, beta.buffer, loss.buffer, activeTerms.buffer], workgroups: [1] },
  );

  const betaShape = beta.shape;
  record(op, [embeddings, beta], [loss], ([g], needs, [embeddings, beta, anchors, positives, negatives, dist, activeTerms]) => {
    const coef = empty([2 * T]);
    const dBeta = empty(betaShape);
    rt.dispatchSource(
      { name: 'margin_reduce', source: reduceSource, defines: { FORWARD: false } },
      { uniforms: new Uniforms().u32(T).f32(alpha).u32(0).u32(0), buffers: [dist.buffer, beta.buffer, activeTerms.buffer, g!.buffer, coef.buffer, dBeta.buffer], workgroups: [1] },
    );
    let dx: Tensor | null = null;
    if (needs[0]) {
      const rowStart = empty([B + 1], 'u32');
      const entries = empty([4 * T], 'u32');
      const u = () => new Uniforms().u32(B).u32(C).u32(T).u32(0);
      const idx = [anchors.buffer, positives.buffer, negatives.buffer];
      rt.dispatchSource(
        { name: 'margin_csr', source: gradSource, defines: { CSR: true } },
        { uniforms: u(), buffers: [...idx, rowStart.buffer, entries.buffer], workgroups: [1] },
      );
      dx = empty([B, C]);
      rt.dispatchSource(
        { name: 'margin_grad', source: gradSource, defines: { CSR: false } },
        { uniforms: u(), buffers: [...idx, rowStart.buffer, entries.buffer, coef.buffer, embeddings.buffer, dx.buffer], workgroups: rt.grid(B) },
      );
      rowStart.dispose();
      entries.dispose();
    }
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
