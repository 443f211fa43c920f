// MultiGrain losses: distance-weighted triplet sampling and the margin loss (engine ops), and
// their composition as the original's SampledMarginLoss.
export {
  distanceWeightedSampling, tripletStructure, disposeTriplets, DWS_MAX_BATCH,
  type Triplets, type TripletStructure, type DistanceWeightedSamplingOptions,
  marginLoss, marginLossWithStats,
  type TripletIndices, type MarginLossOptions, type MarginLossResult,
} from '../../engine/index.js';
export { sampledMarginLoss, type SampledMarginLossOptions } from './margin-loss.js';
