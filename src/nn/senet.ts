/**
 * SENet154 (Hu et al., 2018) with the module names of Cadene's `pretrainedmodels` senet.py
 * (`layer0.conv1`, `layer1.0.conv2`, `layer1.0.se_module.fc1`, `layer2.0.downsample.0`, ...,
 * `last_linear`), which the original MultiGrain release loads: a three-conv stem, a ceil-mode
 * max pool, and bottlenecks with a grouped 3x3 convolution and squeeze-excitation. The
 * published net is `layers` [3, 8, 36, 3], `groups` 64, `reduction` 16, `inplanes` 128,
 * `width` 64; smaller values give test-sized nets with the same modules.
 */
import {
  type Tensor, add, mul, relu, sigmoid, reshape, globalAvgPool, maxPool2d, shapeString,
} from '../engine/index.js';
import { DataRng } from '../util/rng.js';
import { Module } from './module.js';
import { Conv2d, BatchNorm2d, Linear, convBatchNorm } from './layers.js';

export interface SENetOptions {
  /** Bottlenecks per stage ([3, 8, 36, 3] published). */
  layers?: readonly [number, number, number, number];
  /** Groups of the bottlenecks' 3x3 convolution (64 published). */
  groups?: number;
  /** Squeeze-excitation reduction ratio (16 published). */
  reduction?: number;
  /** Channels of layer0's output (128 published). */
  inplanes?: number;
  /** Channels of the stem convolutions and the stages' unit: planes are width, 2 width, 4 width, 8 width (64 published). */
  width?: number;
  /** Classes of `last_linear`. */
  numClasses?: number;
  /** Build `last_linear` (MultiGrain keeps it as its classifier instead). */
  head?: boolean;
  seed?: number;
}

/** Squeeze-excitation: x * sigmoid(fc2(relu(fc1(avgpool(x))))), `fc1` / `fc2` 1x1 convolutions with bias. */
class SEModule extends Module {
  readonly fc1: Conv2d;
  readonly fc2: Conv2d;
  constructor(channels: number, reduction: number, rng: DataRng) {
    super();
    this.fc1 = this.addModule('fc1', new Conv2d(channels, Math.floor(channels / reduction), 1, { bias: true }, rng));
    this.fc2 = this.addModule('fc2', new Conv2d(Math.floor(channels / reduction), channels, 1, { bias: true }, rng));
  }
  forward(x: Tensor): Tensor {
    const [n, c] = x.shape as [number, number];
    const pooled = globalAvgPool(x);
    const squeezed = reshape(pooled, [n, c, 1, 1]);
    pooled.dispose();
    const h = this.fc1.forward(squeezed);
    squeezed.dispose();
    const r = relu(h);
    h.dispose();
    const z = this.fc2.forward(r);
    r.dispose();
    const s = sigmoid(z);
    z.dispose();
    const out = mul(x, s);
    s.dispose();
    return out;
  }
}

/** The downsample branch: conv (1x1 in layer1, 3x3 padding 1 after) + batchnorm (`downsample.0`, `downsample.1`). */
class Downsample extends Module {
  readonly conv: Conv2d;
  readonly bn: BatchNorm2d;
  constructor(inC: number, outC: number, kernel: number, stride: number, rng: DataRng) {
    super();
    this.conv = this.addModule('0', new Conv2d(inC, outC, kernel, { stride, padding: Math.floor(kernel / 2) }, rng));
    this.bn = this.addModule('1', new BatchNorm2d(outC));
  }
  forward(x: Tensor): Tensor {
    return convBatchNorm(this.conv, this.bn, x);
  }
}

/** SENet154's bottleneck: 1x1 (2 planes), grouped 3x3 (4 planes, strided), 1x1, squeeze-excitation, residual. */
class SEBottleneck extends Module {
  readonly conv1: Conv2d; readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d; readonly bn2: BatchNorm2d;
  readonly conv3: Conv2d; readonly bn3: BatchNorm2d;
  readonly se: SEModule;
  readonly downsample: Downsample | null;
  constructor(inC: number, planes: number, groups: number, reduction: number, stride: number, downsample: Downsample | null, rng: DataRng) {
    super();
    this.conv1 = this.addModule('conv1', new Conv2d(inC, planes * 2, 1, {}, rng));
    this.bn1 = this.addModule('bn1', new BatchNorm2d(planes * 2));
    this.conv2 = this.addModule('conv2', new Conv2d(planes * 2, planes * 4, 3, { stride, padding: 1, groups }, rng));
    this.bn2 = this.addModule('bn2', new BatchNorm2d(planes * 4));
    this.conv3 = this.addModule('conv3', new Conv2d(planes * 4, planes * 4, 1, {}, rng));
    this.bn3 = this.addModule('bn3', new BatchNorm2d(planes * 4));
    this.se = this.addModule('se_module', new SEModule(planes * 4, reduction, rng));
    this.downsample = downsample ? this.addModule('downsample', downsample) : null;
  }
  forward(x: Tensor): Tensor {
    const a = convBatchNorm(this.conv1, this.bn1, x, { relu: true });
    const b = convBatchNorm(this.conv2, this.bn2, a, { relu: true });
    a.dispose();
    const c = convBatchNorm(this.conv3, this.bn3, b);
    b.dispose();
    const excited = this.se.forward(c);
    c.dispose();
    const identity = this.downsample ? this.downsample.forward(x) : x;
    const sum = add(excited, identity);
    excited.dispose();
    if (identity !== x) identity.dispose();
    const out = relu(sum);
    sum.dispose();
    return out;
  }
}

/** layer0: three 3x3 conv-bn-relu (the first strided), then the ceil-mode max pool. */
class Stem extends Module {
  readonly convs: [Conv2d, BatchNorm2d][] = [];
  constructor(width: number, inplanes: number, rng: DataRng) {
    super();
    const channels = [[3, width, 2], [width, width, 1], [width, inplanes, 1]];
    channels.forEach(([inC, outC, stride], i) => {
      this.convs.push([
        this.addModule(`conv${i + 1}`, new Conv2d(inC!, outC!, 3, { stride, padding: 1 }, rng)),
        this.addModule(`bn${i + 1}`, new BatchNorm2d(outC!)),
      ]);
    });
  }
  forward(x: Tensor): Tensor {
    let t = x;
    for (const [conv, bn] of this.convs) {
      const next = convBatchNorm(conv, bn, t, { relu: true });
      if (t !== x) t.dispose();
      t = next;
    }
    const out = maxPool2d(t, { kernel: 3, stride: 2, ceilMode: true });
    t.dispose();
    return out;
  }
}

/** A stage: `layerK.0`, `layerK.1`, ... */
class Stage extends Module {
  readonly blocks: SEBottleneck[] = [];
  add(block: SEBottleneck): void {
    this.blocks.push(this.addModule(String(this.blocks.length), block));
  }
  forward(x: Tensor): Tensor {
    let t = x;
    for (const b of this.blocks) {
      const next = b.forward(t);
      if (t !== x) t.dispose();
      t = next;
    }
    return t;
  }
}

export class SENet154 extends Module {
  /** Channels of `features()` (2048 published). */
  readonly featureDim: number;
  readonly layer0: Stem;
  readonly stages: Stage[];
  readonly lastLinear: Linear | null;

  constructor(options: SENetOptions = {}) {
    super();
    const layers = options.layers ?? [3, 8, 36, 3];
    const groups = options.groups ?? 64;
    const reduction = options.reduction ?? 16;
    const width = options.width ?? 64;
    let inC = options.inplanes ?? 128;
    const rng = new DataRng(options.seed ?? 0);
    this.layer0 = this.addModule('layer0', new Stem(width, inC, rng));
    this.stages = layers.map((count, i) => {
      const planes = width * 2 ** i;
      const stride = i === 0 ? 1 : 2;
      const stage = this.addModule(`layer${i + 1}`, new Stage());
      for (let b = 0; b < count; b++) {
        const first = b === 0;
        const needsDown = first && (stride !== 1 || inC !== planes * 4);
        const down = needsDown ? new Downsample(inC, planes * 4, i === 0 ? 1 : 3, stride, rng) : null;
        stage.add(new SEBottleneck(inC, planes, groups, reduction, first ? stride : 1, down, rng));
        inC = planes * 4;
      }
      return stage;
    });
    this.featureDim = inC;
    this.lastLinear = options.head === false ? null : this.addModule('last_linear', new Linear(inC, options.numClasses ?? 1000, true, rng));
  }

  /** The trunk, layer0 ... layer4: [N, 32 width, ~H/32, ~W/32]. */
  features(x: Tensor): Tensor {
    if (x.rank !== 4 || x.shape[1] !== 3) throw new Error(`SENet154: input must be [N, 3, H, W], got ${shapeString(x.shape)}`);
    if (x.shape[2] < 32 || x.shape[3] < 32) throw new Error(`SENet154: input ${shapeString(x.shape)} is smaller than 32x32`);
    let t = this.layer0.forward(x);
    for (const s of this.stages) {
      const next = s.forward(t);
      t.dispose();
      t = next;
    }
    return t;
  }
}
