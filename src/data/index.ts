// Data pipeline: decoding, datasets, sampler, augmentations, loader.
export {};
