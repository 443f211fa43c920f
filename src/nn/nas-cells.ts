/**
 * The pieces PNASNet-5 and NASNet-A cells share, with the module names of Cadene's
 * `pretrainedmodels` (which the original MultiGrain release loads): separable convolution
 * branches (`separable_1.depthwise_conv2d`, `bn_sep_1`, ...), ReLU-conv-BN (`conv`, `bn`), the
 * factorized reduction (`path_1.conv`, `path_2.conv`, `final_path_bn`), the cells' pooling
 * branches, and the release's cropping: branches of slightly different sizes (odd inputs) are
 * cropped to their common top-left part before they are summed or concatenated
 * (`shrink_sum` / `shrink_cat` of multigrain/backbones/pnasnet.py), so any input size works.
 * Batchnorms of these nets use eps 1e-3.
 */
import { type Tensor, add, concat, relu, pad2d, maxPool2d, avgPool2d } from '../engine/index.js';
import { DataRng } from '../util/rng.js';
import { Module } from './module.js';
import { Conv2d, BatchNorm2d, convBatchNorm } from './layers.js';

/** The NASNets' batchnorm epsilon. */
export const NAS_BN_EPS = 1e-3;

/** The window [top, top + h) x [left, left + w) of x [N, C, H, W] (a negative pad2d). */
export function crop2d(x: Tensor, top: number, left: number, h = x.shape[2]! - top, w = x.shape[3]! - left): Tensor {
  return pad2d(x, [-left, -(x.shape[3]! - left - w), -top, -(x.shape[2]! - top - h)]);
}

/** Common (smallest) height and width of feature maps. */
function commonSize(xs: readonly Tensor[]): [number, number] {
  return [Math.min(...xs.map((t) => t.shape[2]!)), Math.min(...xs.map((t) => t.shape[3]!))];
}

/** a + b over their common top-left window (the release's `shrink_sum`). */
export function shrinkSum(a: Tensor, b: Tensor): Tensor {
  const [h, w] = commonSize([a, b]);
  const fit = (t: Tensor): Tensor => (t.shape[2] === h && t.shape[3] === w ? t : crop2d(t, 0, 0, h, w));
  const [ca, cb] = [fit(a), fit(b)];
  const out = add(ca, cb);
  if (ca !== a) ca.dispose();
  if (cb !== b) cb.dispose();
  return out;
}

/** Concatenation along channels over the common top-left window (the release's `shrink_cat`). */
export function shrinkCat(xs: readonly Tensor[]): Tensor {
  const [h, w] = commonSize(xs);
  const fitted = xs.map((t) => (t.shape[2] === h && t.shape[3] === w ? t : crop2d(t, 0, 0, h, w)));
  const out = concat(fitted, 1);
  fitted.forEach((t, i) => t !== xs[i] && t.dispose());
  return out;
}

/** Zero-pad one pixel top and left, apply `f`, drop the first output row and column (the cells' `zero_pad` idiom). */
export function withTopLeftPad(x: Tensor, f: (t: Tensor) => Tensor): Tensor {
  const padded = pad2d(x, [1, 0, 1, 0]);
  const y = f(padded);
  padded.dispose();
  const out = crop2d(y, 1, 1);
  y.dispose();
  return out;
}

/** 3x3 max pooling (padding 1, -inf), optionally through `withTopLeftPad` (`MaxPool(zero_pad=True)`, `MaxPoolPad`). */
export function maxPool3(x: Tensor, stride: number, topLeftPad = false): Tensor {
  const pool = (t: Tensor): Tensor => maxPool2d(t, { kernel: 3, stride, padding: 1 });
  return topLeftPad ? withTopLeftPad(x, pool) : pool(x);
}

/** 3x3 average pooling, padding 1, count_include_pad=False, optionally through `withTopLeftPad` (`AvgPoolPad`). */
export function avgPool3(x: Tensor, stride: number, topLeftPad = false): Tensor {
  const pool = (t: Tensor): Tensor => avgPool2d(t, { kernel: 3, stride, padding: 1, countIncludePad: false });
  return topLeftPad ? withTopLeftPad(x, pool) : pool(x);
}

/** Depthwise k x k convolution then pointwise 1x1 (`depthwise_conv2d`, `pointwise_conv2d`; no biases). */
export class SeparableConv2d extends Module {
  readonly depthwise: Conv2d;
  readonly pointwise: Conv2d;
  constructor(inC: number, outC: number, kernel: number, stride: number, rng: DataRng) {
    super();
    const padding = Math.floor(kernel / 2);
    this.depthwise = this.addModule('depthwise_conv2d', new Conv2d(inC, inC, kernel, { stride, padding, groups: inC }, rng));
    this.pointwise = this.addModule('pointwise_conv2d', new Conv2d(inC, outC, 1, {}, rng));
  }

  /** bn(pointwise(depthwise(x))) (then ReLU), the batchnorm folded into the pointwise conv for inference. */
  forwardBn(x: Tensor, bn: BatchNorm2d, reluAfter: boolean): Tensor {
    const d = this.depthwise.forward(x);
    const out = convBatchNorm(this.pointwise, bn, d, { relu: reluAfter });
    d.dispose();
    return out;
  }
}

export interface BranchSeparablesOptions {
  /** The first separable's output: `out` channels in the stem cells (stem_cell=True / BranchSeparablesStem), else `in`. */
  stem?: boolean;
  /** Zero-pad top-left before the strided separable, crop after (PNASNet's `zero_pad`, NASNet's 'specific'). */
  topLeftPad?: boolean;
}

/** relu → separable_1 (strided) → bn_sep_1 → relu → separable_2 → bn_sep_2: the cells' separable branch. */
export class BranchSeparables extends Module {
  readonly separable1: SeparableConv2d;
  readonly bn1: BatchNorm2d;
  readonly separable2: SeparableConv2d;
  readonly bn2: BatchNorm2d;
  private readonly topLeftPad: boolean;
  constructor(inC: number, outC: number, kernel: number, stride: number, rng: DataRng, options: BranchSeparablesOptions = {}) {
    super();
    const middle = options.stem ? outC : inC;
    this.separable1 = this.addModule('separable_1', new SeparableConv2d(inC, middle, kernel, stride, rng));
    this.bn1 = this.addModule('bn_sep_1', new BatchNorm2d(middle, 0.1, NAS_BN_EPS));
    this.separable2 = this.addModule('separable_2', new SeparableConv2d(middle, outC, kernel, 1, rng));
    this.bn2 = this.addModule('bn_sep_2', new BatchNorm2d(outC, 0.1, NAS_BN_EPS));
    this.topLeftPad = options.topLeftPad ?? false;
  }

  forward(x: Tensor): Tensor {
    const r = relu(x);
    let mid: Tensor;
    if (this.topLeftPad) {
      // the crop comes between the separable and its batchnorm: batch statistics over the cropped map
      const sep = withTopLeftPad(r, (t) => {
        const d = this.separable1.depthwise.forward(t);
        const p = this.separable1.pointwise.forward(d);
        d.dispose();
        return p;
      });
      mid = this.bn1.forwardFused(sep, { relu: true });
      sep.dispose();
    } else {
      mid = this.separable1.forwardBn(r, this.bn1, true);
    }
    r.dispose();
    const out = this.separable2.forwardBn(mid, this.bn2, false);
    mid.dispose();
    return out;
  }
}

/** relu → conv (k x k, stride) → bn: `conv_1x1`, `conv_prev_1x1`, PNASNet's `comb_iter_4_right`. */
export class ReluConvBn extends Module {
  readonly conv: Conv2d;
  readonly bn: BatchNorm2d;
  constructor(inC: number, outC: number, rng: DataRng, kernel = 1, stride = 1) {
    super();
    this.conv = this.addModule('conv', new Conv2d(inC, outC, kernel, { stride }, rng));
    this.bn = this.addModule('bn', new BatchNorm2d(outC, 0.1, NAS_BN_EPS));
  }
  forward(x: Tensor): Tensor {
    const r = relu(x);
    const out = convBatchNorm(this.conv, this.bn, r);
    r.dispose();
    return out;
  }
}

/** A stride-2 1x1 convolution as the only child of a path (`path_1.conv`, `path_2.conv`). */
export class ConvPath extends Module {
  readonly conv: Conv2d;
  constructor(inC: number, outC: number, rng: DataRng) {
    super();
    this.conv = this.addModule('conv', new Conv2d(inC, outC, 1, { stride: 2 }, rng));
  }
}

/**
 * relu → two stride-2 1x1 paths, the second on the input shifted by one pixel (pad right/bottom,
 * drop the first row and column) → concat → final_path_bn. The paths' `AvgPool2d(1, stride=2)`
 * is the 1x1 convolution's stride 2 (same samples). PNASNet's `FactorizedReduction` and the
 * `path_1` / `path_2` / `final_path_bn` of NASNet's CellStem1 and FirstCell.
 */
export class FactorizedReduction extends Module {
  readonly path1: ConvPath;
  readonly path2: ConvPath;
  readonly bn: BatchNorm2d;
  constructor(inC: number, half: number, rng: DataRng) {
    super();
    this.path1 = this.addModule('path_1', new ConvPath(inC, half, rng));
    this.path2 = this.addModule('path_2', new ConvPath(inC, half, rng));
    this.bn = this.addModule('final_path_bn', new BatchNorm2d(2 * half, 0.1, NAS_BN_EPS));
  }
  forward(x: Tensor): Tensor {
    const r = relu(x);
    const p1 = this.path1.conv.forward(r);
    const shifted = pad2d(r, [-1, 1, -1, 1]);
    r.dispose();
    const p2 = this.path2.conv.forward(shifted);
    shifted.dispose();
    const joined = shrinkCat([p1, p2]);
    p1.dispose();
    p2.dispose();
    const out = this.bn.forward(joined);
    joined.dispose();
    return out;
  }
}

/** `conv_0` / `conv0`: 3x3 stride-2 convolution of the image without padding, then bn (`conv`, `bn`). */
export class StemConvBn extends Module {
  readonly conv: Conv2d;
  readonly bn: BatchNorm2d;
  constructor(stem: number, rng: DataRng) {
    super();
    this.conv = this.addModule('conv', new Conv2d(3, stem, 3, { stride: 2 }, rng));
    this.bn = this.addModule('bn', new BatchNorm2d(stem, 0.1, NAS_BN_EPS));
  }
  forward(x: Tensor): Tensor {
    return convBatchNorm(this.conv, this.bn, x);
  }
}
