// Engine public API: device and runtime, tensors, autograd, ops, optimizer.

export { init, shutdown, runtime, isInitialized, Runtime, type DispatchArgs, type InitOptions } from './runtime.js';
export { tune, tuning, DEFAULT_TUNING, type Tuning, type ConvDirectTile } from './tuning.js';
export type { GpuContext, DeviceOptions } from './device.js';
export { Uniforms } from './uniforms.js';
export { preprocess, type Defines } from './pipelines.js';
export { defineKernel, Kernel, type KernelSpec, type BindingSpec, type KernelDispatch } from './kernel.js';
export { BufferPool, sizeClass, type PoolStats } from './pool.js';
export type { KernelTime } from './profiler.js';
export { Tensor, Storage, tensor, empty, zeros, ones, full, parameter, shapeSize, shapeString, type DType, type Shape } from './tensor.js';
export { tidy, keep } from './scope.js';
export { backward, grad, noGrad, record, clearTape, tapeLength, isGradEnabled, type BackwardRule, type BackwardOptions } from './tape.js';
export {
  add, sub, mul, div, addScalar, mulScalar, neg, relu, exp, log, sqrt, pow, clamp, unary, binary,
  UNARY_OPS, BINARY_OPS, type UnaryOp, type BinaryOp, type UnaryOpName, type BinaryOpName,
} from './ops/elementwise.js';
export { binaryMap, unaryMap, mapStrided } from './kernels/elementwise/map.js';
export { sum, mean } from './ops/reduce.js';
export { sumTo } from './kernels/reduce/sum.js';
export { normalizeAxes, broadcastShapes, contiguousStrides, type Layout } from './layout.js';
export { reshape, expand, permute, transpose, slice, concat } from './ops/shape.js';
export { matmul, matmulRaw, linear, setMatmulSubgroup, hasSubgroupKernel, type MatmulOptions } from './ops/matmul.js';
export { crossEntropy } from './ops/cross-entropy.js';
export { topkCorrect } from './ops/accuracy.js';
export { gather } from './ops/gather.js';
export { copy, fullLike, onesLike, zerosLike } from './ops/basic.js';
export { checkLive, checkDtype, checkFloat, checkRank } from './ops/checks.js';
export { SGD, type ParamGroup } from './optim/sgd.js';
export * from './ops/conv2d.js';
export * from './ops/batchnorm.js';
export * from './ops/pool.js';
export * from './ops/gem.js';
export * from './ops/l2n.js';
