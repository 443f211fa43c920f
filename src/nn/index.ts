// nn: modules on the engine (ResNet and its layers).
export { Module } from './module.js';
export { Conv2d, BatchNorm2d, Linear, convBatchNorm, type Conv2dLayerOptions, type BatchNormTail } from './layers.js';
export { ResNet, resnetDepthOf, type ResNetDepth, type ResNetOptions } from './resnet.js';
export { chain } from './sequence.js';
export { kaimingNormalFanOut, linearUniform, normalArray } from './init.js';
