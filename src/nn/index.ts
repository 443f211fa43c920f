// nn: modules on the engine (ResNet, SENet154, PNASNet-5, NASNet-A-Mobile and their layers).
export { Module } from './module.js';
export { Conv2d, BatchNorm2d, Linear, convBatchNorm, type Conv2dLayerOptions, type BatchNormTail } from './layers.js';
export { ResNet, resnetDepthOf, type ResNetDepth, type ResNetOptions } from './resnet.js';
export { chain } from './sequence.js';
export { kaimingNormalFanOut, linearUniform, normalArray } from './init.js';
export { SENet154, type SENetOptions } from './senet.js';
export { PNASNet5Large, type PNASNetOptions } from './pnasnet.js';
export { NASNetAMobile, type NASNetMobileOptions } from './nasnet-mobile.js';
export { TRUNK_NAMES, buildTrunk, isTrunkName, type TrunkName, type TrunkOptions, type Trunk } from './trunks.js';
