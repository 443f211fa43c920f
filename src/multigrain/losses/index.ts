// MultiGrain losses: distance-weighted triplet sampling and the margin loss, on the GPU.
export {
  distanceWeightedSampling, tripletStructure, disposeTriplets, DWS_MAX_BATCH,
  type Triplets, type TripletStructure, type DistanceWeightedSamplingOptions,
} from './distance-weighted-sampling.js';
export {
  marginLoss, marginLossWithStats, sampledMarginLoss,
  type TripletIndices, type MarginLossOptions, type MarginLossResult, type SampledMarginLossOptions,
} from './margin-loss.js';
