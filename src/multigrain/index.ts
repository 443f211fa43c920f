// MultiGrain: the model, losses, weights and the training program.
export { MultiGrain, GeMPool, PcaWhitening, type MultiGrainOptions, type MultiGrainOutput } from './model.js';
export {
  BACKBONE_FLAGS, isBackbone, backboneFromFlag, backboneFlag, backboneLabel, inputNormalization, preClassifierDropout, trunkKeyPrefix,
  type Backbone, type InputNormalization,
} from './backbone.js';
export * from './losses/index.js';
export {
  readStateDict, readWeightsFile, loadPretrainedTrunk, pretrainedTrunkOptions, loadMultiGrainWeights, inferArchitecture, openMultiGrain, readCheckpointClasses,
  readCheckpointMeta, metaRecord, checkpointClasses, checkpointScale,
  type CheckpointScale, type MultiGrainArchitecture, type OpenedMultiGrain, type WeightsFile,
} from './weights.js';
export {
  openClassificationData, openValidationData, SubsetDataset, ClassMappedDataset, shortList, firstImagesPerClass, imagesPerClassAfter, shuffledImagesPerClass, type ClassificationData, type KnownClasses,
} from './data-source.js';
export { train, validate, batchImages, type TrainResult, type EpochRecord, type StepRecord } from './training/trainer.js';
export { trainingOutputs, type TrainInputs, type TrainData, type TrainableModel, type TrainOutput, type CheckpointEvent } from './training/inputs.js';
export { TRAIN_OPTIONS, TRAIN_DEFAULTS, validateTrainOptions, type TrainOptions, type DatasetName } from './training/options.js';
export { GpuMetrics, STEP_METRICS, type NonFiniteTensor } from './training/metrics.js';
export { ProgressBar } from './training/progress.js';
export { stepLrFactor, polyLr, scaledLr, baseLearningRate, warmupFactor } from './training/schedule.js';
export { GradientAccumulation, type PartialAccumulation, type Stepper } from './training/accumulation.js';
export { samplingReplicas, IMAGES_PER_REPLICA, type SamplingChoice } from './training/sampling.js';
export { lineChartSvg, type Series } from './training/plot.js';
export { listCheckpoints, resolveResume, checkpointName } from './training/checkpoints.js';
export { finetuneP, FINETUNE_P_DEFAULTS, FINETUNE_P_OPTION_SPECS, validateFinetunePOptions, checkFinetunedP, type PTunableModel, type FinetunePOptions, type FinetunePResult, type FinetunePRecord } from './finetune-p.js';
export { parsePGrid, crossValidateP, bestP, pGridTable, P_GRID_MAX, type PGridPoint, type CrossValidatePOptions } from './p-grid.js';
export { symmetricEigen, type SymmetricEigen } from './whitening/eigen.js';
export { fitPcaWhitening, applyPcaWhitening, EIGENVALUE_FLOOR, type PcaWhiteningFit } from './whitening/pca.js';
export { whiten, WHITEN_OPTION_SPECS, applyWhitening, normalizedWithBias, whitenedClassifier, paddedWhitening, type WhitenOptions, type WhitenResult } from './whitening/whiten.js';
export { extractEmbeddings, type Embeddings, type EmbeddingKind, type ExtractOptions } from './retrieval/embeddings.js';
export { rankPositives, ranksInRow, topInRow, type SearchOptions, type SearchResult } from './retrieval/search.js';
export { averagePrecision, hitsInTop } from './retrieval/metrics.js';
export { evaluateRetrieval, scoreRetrieval, type RetrievalResult, type RetrievalOptions } from './retrieval/evaluate.js';
export { retrievalExamplesSvg, exampleQueries, type RetrievalExample, type Thumbnail } from './retrieval/examples-svg.js';
export { RetrievalIndex, RETRIEVAL_INDEX_FORMAT, type IndexId, type SearchHits, type RetrievalIndexOptions } from './retrieval/retrieval-index.js';
export { HnswIndex, HNSW_DEFAULTS, openRetrievalIndex, type HnswParameters, type HnswIndexOptions, type AnyRetrievalIndex } from './retrieval/hnsw-index.js';
export { checkInputFits } from './input-size.js';
export { embedImages, datasetPaths, pathsHash, EMBED_FILES, type EmbedArgs, type EmbedOptions, type EmbedProgress, type EmbedResult } from './retrieval/embed.js';
export { classifyImages, classificationScale, softmax, topClasses, type ClassifyInput, type ClassifyOptions, type ClassScore, type ImageClassification, type ClassifyingModel } from './classify.js';
