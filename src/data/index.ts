// Data pipeline: decoding, datasets, repeated-augmentation sampler, augmentations, loader.
export * from './image.js';
// The seedable generator lives in src/util (weight init uses it too); re-exported here as before.
export * from '../util/rng.js';
export * from './sampler.js';
export { ImageDecodeError } from './decode.js';
export type { DecodeOptions, ImageDecoder } from './decode.js';
export { NodeImageDecoder } from './decode-node.js';
export type { NodeImageDecoderOptions } from './decode-node.js';
export * from './decode-browser.js';
export * from './decode-default.js';
export * from './transforms/geometry.js';
export * from './transforms/random-resized-crop.js';
export * from './transforms/color.js';
export * from './transforms/tensor.js';
export * from './transforms/pil-ops.js';
export * from './transforms/pipelines.js';
export * from './autoaugment.js';
export { IMAGE_EXTENSIONS, RecordDataset, loadRecord, walkImages } from './datasets/common.js';
export type { ImageDataset, ImageRecord, ImageSample, RetrievalDataset, RetrievalTruth } from './datasets/common.js';
export * from './datasets/image-folder.js';
export * from './datasets/list-dataset.js';
export * from './datasets/fashion-mnist.js';
export * from './datasets/holidays.js';
export * from './datasets/holidays-rotate.js';
export * from './datasets/copydays.js';
export * from './datasets/ukbench.js';
export { sampleRng } from './sample-task.js';
export * from './loader.js';
