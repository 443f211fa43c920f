/**
 * ResNet-18/34/50/101/152 with torchvision's exact layout and parameter names (`conv1`,
 * `bn1`, `layer1.0.conv1`, `layer1.0.downsample.0`, ..., `fc`), so torchvision and
 * MultiGrain weights load by name. Bottleneck blocks stride in their 3x3 conv (ResNet v1.5,
 * as torchvision). Any input size >= 32 and any batch size.
 */
import { type Tensor, type Precision, maxPool2d, globalAvgPool, shapeString, cast, isGradEnabled, halfPrecisionAvailable } from '../engine/index.js';
import { DataRng } from '../util/rng.js';
import { Module } from './module.js';
import { Conv2d, BatchNorm2d, Linear, convBatchNorm } from './layers.js';
import { chain } from './sequence.js';

export type ResNetDepth = 18 | 34 | 50 | 101 | 152;

const LAYOUTS: Record<ResNetDepth, { block: 'basic' | 'bottleneck'; blocks: [number, number, number, number] }> = {
  18: { block: 'basic', blocks: [2, 2, 2, 2] },
  34: { block: 'basic', blocks: [3, 4, 6, 3] },
  50: { block: 'bottleneck', blocks: [3, 4, 6, 3] },
  101: { block: 'bottleneck', blocks: [3, 4, 23, 3] },
  152: { block: 'bottleneck', blocks: [3, 8, 36, 3] },
};

/** The depth whose layout has these residual blocks per stage (null when none has). */
export function resnetDepthOf(block: 'basic' | 'bottleneck', blocks: readonly number[]): ResNetDepth | null {
  const found = (Object.entries(LAYOUTS) as [string, (typeof LAYOUTS)[ResNetDepth]][])
    .find(([, l]) => l.block === block && l.blocks.every((b, i) => b === blocks[i]) && blocks.length === 4);
  return found ? (Number(found[0]) as ResNetDepth) : null;
}

export interface ResNetOptions {
  depth: ResNetDepth;
  /** Classes of the `fc` head (torchvision: 1000). */
  numClasses?: number;
  /** Channels of the first stage (64 in torchvision); smaller values make test-sized networks. */
  baseWidth?: number;
  /** Seed of the weight initialization. */
  seed?: number;
  /** Build the `fc` classification head (default true; MultiGrain's trunk has none). */
  head?: boolean;
}

/** The downsample branch: 1x1 conv + batchnorm (`downsample.0`, `downsample.1`). */
class Downsample extends Module {
  readonly conv: Conv2d;
  readonly bn: BatchNorm2d;
  constructor(inC: number, outC: number, stride: number, rng: DataRng) {
    super();
    this.conv = this.addModule('0', new Conv2d(inC, outC, 1, { stride }, rng));
    this.bn = this.addModule('1', new BatchNorm2d(outC));
  }
  forward(x: Tensor): Tensor {
    return convBatchNorm(this.conv, this.bn, x);
  }
}

/** relu(bn(conv(t)) + identity), disposing a new identity; one kernel for inference. */
function residual(conv: Conv2d, bn: BatchNorm2d, t: Tensor, identity: Tensor, input: Tensor): Tensor {
  const out = convBatchNorm(conv, bn, t, { residual: identity, relu: true });
  if (identity !== input) identity.dispose();
  return out;
}

/** relu(bn(conv(t))); one kernel for inference. */
function convBnRelu(conv: Conv2d, bn: BatchNorm2d): (t: Tensor) => Tensor {
  return (t) => convBatchNorm(conv, bn, t, { relu: true });
}

class BasicBlock extends Module {
  static readonly expansion = 1;
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly downsample: Downsample | null;
  constructor(inC: number, planes: number, stride: number, rng: DataRng) {
    super();
    this.conv1 = this.addModule('conv1', new Conv2d(inC, planes, 3, { stride, padding: 1 }, rng));
    this.bn1 = this.addModule('bn1', new BatchNorm2d(planes));
    this.conv2 = this.addModule('conv2', new Conv2d(planes, planes, 3, { padding: 1 }, rng));
    this.bn2 = this.addModule('bn2', new BatchNorm2d(planes));
    this.downsample = stride !== 1 || inC !== planes ? this.addModule('downsample', new Downsample(inC, planes, stride, rng)) : null;
  }
  forward(x: Tensor): Tensor {
    const identity = this.downsample ? this.downsample.forward(x) : x;
    const mid = convBnRelu(this.conv1, this.bn1)(x);
    const out = residual(this.conv2, this.bn2, mid, identity, x);
    mid.dispose();
    return out;
  }
}

class Bottleneck extends Module {
  static readonly expansion = 4;
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly conv3: Conv2d;
  readonly bn3: BatchNorm2d;
  readonly downsample: Downsample | null;
  constructor(inC: number, planes: number, stride: number, rng: DataRng) {
    super();
    const outC = planes * Bottleneck.expansion;
    this.conv1 = this.addModule('conv1', new Conv2d(inC, planes, 1, {}, rng));
    this.bn1 = this.addModule('bn1', new BatchNorm2d(planes));
    this.conv2 = this.addModule('conv2', new Conv2d(planes, planes, 3, { stride, padding: 1 }, rng));
    this.bn2 = this.addModule('bn2', new BatchNorm2d(planes));
    this.conv3 = this.addModule('conv3', new Conv2d(planes, outC, 1, {}, rng));
    this.bn3 = this.addModule('bn3', new BatchNorm2d(outC));
    this.downsample = stride !== 1 || inC !== outC ? this.addModule('downsample', new Downsample(inC, outC, stride, rng)) : null;
  }
  forward(x: Tensor): Tensor {
    const identity = this.downsample ? this.downsample.forward(x) : x;
    const mid = chain(x, convBnRelu(this.conv1, this.bn1), convBnRelu(this.conv2, this.bn2));
    const out = residual(this.conv3, this.bn3, mid, identity, x);
    mid.dispose();
    return out;
  }
}

type Block = BasicBlock | Bottleneck;

/** A stage: `layerK.0`, `layerK.1`, ... */
class Stage extends Module {
  readonly blocks: Block[] = [];
  add(block: Block): void {
    this.blocks.push(this.addModule(String(this.blocks.length), block));
  }
  forward(x: Tensor): Tensor {
    return chain(x, ...this.blocks.map((b) => (t: Tensor) => b.forward(t)));
  }
}

export class ResNet extends Module {
  readonly depth: ResNetDepth;
  /** Channels of the trunk's output (2048 for ResNet-50, 512 for ResNet-18 at full width). */
  readonly featureDim: number;
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly layers: Stage[];
  readonly fc: Linear | null;

  constructor(options: ResNetOptions) {
    super();
    const layout = LAYOUTS[options.depth];
    if (!layout) throw new Error(`ResNet: depth ${options.depth} is not one of 18, 34, 50, 101, 152`);
    this.depth = options.depth;
    const width = options.baseWidth ?? 64;
    const rng = new DataRng(options.seed ?? 0);
    this.conv1 = this.addModule('conv1', new Conv2d(3, width, 7, { stride: 2, padding: 3 }, rng));
    this.bn1 = this.addModule('bn1', new BatchNorm2d(width));
    const expansion = layout.block === 'basic' ? 1 : 4;
    let inC = width;
    this.layers = layout.blocks.map((count, i) => {
      const planes = width * 2 ** i;
      const stage = this.addModule(`layer${i + 1}`, new Stage());
      for (let b = 0; b < count; b++) {
        const stride = b === 0 && i > 0 ? 2 : 1;
        stage.add(layout.block === 'basic' ? new BasicBlock(inC, planes, stride, rng) : new Bottleneck(inC, planes, stride, rng));
        inC = planes * expansion;
      }
      return stage;
    });
    this.featureDim = inC;
    this.fc = options.head === false ? null : this.addModule('fc', new Linear(inC, options.numClasses ?? 1000, true, rng));
  }

  private inferencePrecision: Precision = 'f32';

  /** The storage precision of inference (eval mode, autograd off); training is always f32. */
  get precision(): Precision {
    return this.inferencePrecision;
  }

  /**
   * Sets the precision of inference. 'f16' (devices with `shader-f16`, see `resolvePrecision`)
   * runs the trunk with f16 weights and activations and f32 accumulation, on f16 copies of the
   * convolution weights made now: call it again after loading or changing weights. 'f32' frees
   * the copies.
   */
  setPrecision(precision: Precision): this {
    if (precision !== 'f32' && precision !== 'f16') throw new Error(`ResNet.setPrecision: precision must be 'f32' or 'f16', got ${JSON.stringify(precision)}`);
    if (precision === 'f16') {
      const { available, why } = halfPrecisionAvailable();
      if (!available) throw new Error(`ResNet.setPrecision: f16 needs a device with 'shader-f16' and halfPrecision tuning on: ${why} (use resolvePrecision('auto'))`);
    }
    this.inferencePrecision = precision;
    for (const conv of this.convolutions()) {
      if (precision === 'f16') conv.halfWeight(true);
      else conv.dropHalfWeight();
    }
    return this;
  }

  /** Every convolution of the trunk. */
  private convolutions(): Conv2d[] {
    const found: Conv2d[] = [];
    const visit = (m: Module): void => {
      if (m instanceof Conv2d) found.push(m);
      for (const [, child] of m.namedChildren()) visit(child);
    };
    visit(this);
    return found;
  }

  /**
   * The trunk: conv1 ... layer4, giving [N, featureDim, H/32, W/32] (f32). With precision f16
   * in inference, x is converted to f16 on entry and the features back to f32 on exit.
   */
  features(x: Tensor): Tensor {
    if (x.rank !== 4 || x.shape[1] !== 3) throw new Error(`ResNet: input must be [N, 3, H, W], got ${shapeString(x.shape)}`);
    if (x.shape[2] < 32 || x.shape[3] < 32) throw new Error(`ResNet: input ${shapeString(x.shape)} is smaller than 32x32`);
    if (this.inferencePrecision === 'f16' && !this.training && !isGradEnabled()) {
      return chain(x, (t) => cast(t, 'f16'), (t) => this.trunk(t), (t) => cast(t, 'f32'));
    }
    return this.trunk(x);
  }

  private trunk(x: Tensor): Tensor {
    return chain(
      x,
      convBnRelu(this.conv1, this.bn1),
      (t) => maxPool2d(t, { kernel: 3, stride: 2, padding: 1 }),
      ...this.layers.map((s) => (t: Tensor) => s.forward(t)),
    );
  }

  /** torchvision's classification forward: trunk, global average pool, fc. */
  forward(x: Tensor): Tensor {
    const fc = this.fc;
    if (!fc) throw new Error('ResNet.forward: this network was built without its fc head; use features()');
    return chain(x, (t) => this.features(t), globalAvgPool, (t) => fc.forward(t));
  }
}
