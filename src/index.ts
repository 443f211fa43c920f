/**
 * MultiGrain-WebGPU public API. Layers, bottom to top: engine (device, tensors, kernels,
 * autograd) → nn (modules, ResNet) → multigrain (model, losses, training) → cli.
 * Data loading (`data`) and weight files (`io`) stand beside them; `util` (the seedable RNG)
 * is below everything.
 */
export * from './engine/index.js';
export * from './data/index.js';
export * from './io/index.js';
export * from './nn/index.js';
export * from './multigrain/index.js';
