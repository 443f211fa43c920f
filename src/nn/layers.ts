/** The layers a ResNet is made of: Conv2d, BatchNorm2d, Linear. */
import {
  type Tensor, type ConvOptions, parameter, tensor, full, conv2d, conv2dRaw, batchnorm2d, linear, foldBatchNorm, scaleShift,
  isGradEnabled, cast, noGrad,
} from '../engine/index.js';
import { DataRng } from '../util/rng.js';
import { Module } from './module.js';
import { kaimingNormalFanOut, linearUniform } from './init.js';

export interface Conv2dLayerOptions {
  stride?: number;
  padding?: number;
  dilation?: number;
  /** Channel groups (default 1; `inChannels` for a depthwise convolution). */
  groups?: number;
  bias?: boolean;
}

/** 2-D convolution with PyTorch's weight layout [out, in / groups, kh, kw]. */
export class Conv2d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;

  constructor(readonly inChannels: number, readonly outChannels: number, readonly kernel: number, readonly options: Conv2dLayerOptions = {}, rng = new DataRng(0)) {
    super();
    const groups = options.groups ?? 1;
    if (inChannels % groups !== 0 || outChannels % groups !== 0) {
      throw new Error(`Conv2d: ${inChannels} input and ${outChannels} output channels are not multiples of ${groups} groups`);
    }
    const shape = [outChannels, inChannels / groups, kernel, kernel];
    this.weight = this.addParameter('weight', parameter(kaimingNormalFanOut(shape, rng), shape));
    this.bias = options.bias ? this.addParameter('bias', parameter(new Float32Array(outChannels), [outChannels])) : null;
  }

  /** Stride, padding and dilation as the conv2d op takes them. */
  get convOptions(): ConvOptions {
    return {
      stride: this.options.stride ?? 1, padding: this.options.padding ?? 0, dilation: this.options.dilation ?? 1, groups: this.options.groups ?? 1,
    };
  }

  forward(x: Tensor): Tensor {
    return conv2d(x, this.weight, this.bias, this.convOptions);
  }

  private half: Tensor | null = null;

  /**
   * The weight in half precision, for f16 inference: a copy made on first use (or with
   * `refresh`) and kept, so it is a snapshot: `refresh` after changing the weights. Training
   * mode drops it.
   */
  halfWeight(refresh = false): Tensor {
    if (refresh) this.dropHalfWeight();
    this.half ??= noGrad(() => cast(this.weight, 'f16'));
    return this.half;
  }

  /** Frees the half-precision copy of the weight. */
  dropHalfWeight(): void {
    this.half?.dispose();
    this.half = null;
  }

  override train(mode = true): this {
    if (mode) this.dropHalfWeight();
    return super.train(mode);
  }
}

/** Batch normalization over N, H, W per channel (momentum 0.1, eps 1e-5, like PyTorch). */
export class BatchNorm2d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;
  readonly runningMean: Tensor;
  readonly runningVar: Tensor;

  constructor(readonly channels: number, readonly momentum = 0.1, readonly eps = 1e-5) {
    super();
    this.weight = this.addParameter('weight', parameter(new Float32Array(channels).fill(1), [channels]));
    this.bias = this.addParameter('bias', parameter(new Float32Array(channels), [channels]));
    this.runningMean = this.addBuffer('running_mean', tensor(new Float32Array(channels), [channels]));
    this.runningVar = this.addBuffer('running_var', full([channels], 1));
  }

  forward(x: Tensor): Tensor {
    return batchnorm2d(x, this.weight, this.bias, this.runningMean, this.runningVar, { training: this.training, momentum: this.momentum, eps: this.eps });
  }

  /**
   * Batchnorm, then an optional residual add, then an optional ReLU, as one pass (in eval mode
   * batchnorm folded into a per-channel scale and shift).
   */
  forwardFused(x: Tensor, options: { residual?: Tensor; relu?: boolean }): Tensor {
    if (!this.training) {
      const { scale, shift } = foldBatchNorm(this.weight, this.bias, this.runningMean, this.runningVar, this.eps);
      const out = scaleShift(x, scale, shift, options);
      scale.dispose();
      shift.dispose();
      return out;
    }
    return batchnorm2d(x, this.weight, this.bias, this.runningMean, this.runningVar, {
      training: true, momentum: this.momentum, eps: this.eps, ...options,
    });
  }
}

/** Options of the step after a batchnorm: a residual to add, then an optional ReLU. */
export interface BatchNormTail {
  residual?: Tensor;
  relu?: boolean;
}

/**
 * bn(conv(x)) (+ residual) (then ReLU). For inference (eval mode, autograd off) the
 * batchnorm is folded into the convolution's epilogue: one kernel writes the block's output
 * and the convolution's raw output never exists; an f16 x runs in half precision (f16 output).
 * Otherwise conv, then `forwardFused`.
 */
export function convBatchNorm(conv: Conv2d, bn: BatchNorm2d, x: Tensor, tail: BatchNormTail = {}): Tensor {
  if (bn.training || isGradEnabled()) {
    const y = conv.forward(x);
    const out = bn.forwardFused(y, tail);
    y.dispose();
    return out;
  }
  const { scale, shift } = foldBatchNorm(bn.weight, bn.bias, bn.runningMean, bn.runningVar, bn.eps);
  // an f16 input (half-precision inference) runs the f16 kernels on the f16 copy of the weight
  const weight = x.dtype === 'f16' ? conv.halfWeight() : conv.weight;
  const out = conv2dRaw(x, weight, conv.bias, conv.convOptions, { scale, shift, ...tail });
  scale.dispose();
  shift.dispose();
  return out;
}

/** y = x·Wᵀ + b with PyTorch's layout and default initialization. */
export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;

  constructor(readonly inFeatures: number, readonly outFeatures: number, withBias = true, rng = new DataRng(0)) {
    super();
    this.weight = this.addParameter('weight', parameter(linearUniform([outFeatures, inFeatures], inFeatures, rng), [outFeatures, inFeatures]));
    this.bias = withBias ? this.addParameter('bias', parameter(linearUniform([outFeatures], inFeatures, rng), [outFeatures])) : null;
  }

  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias ?? undefined);
  }
}
