/**
 * The MultiGrain network: trunk (ResNet, SENet154, PNASNet-5-Large or NASNet-A-Mobile) → GeM
 * pooling → embedding e; `normalizedEmbedding` = e / (||e|| + 1e-6) (for the margin loss and
 * retrieval); `logits` = classifier(pre_classifier(e)) on the un-normalized embedding, where
 * pre_classifier is the dropout the original's `BackBone` keeps from the trunk (none for ResNets).
 * Any input size.
 *
 * Parameter names follow the original release: `features.*` (the trunk: torchvision names,
 * Cadene's for SENet154, `features.0.base_net.*` for the NASNets), `pool.p`,
 * `classifier.weight`, `classifier.bias`, and after whitening
 * `whitening.pca.pca_m`, `whitening.pca.pca_P` with a classifier reading the whitened
 * 2049-d vector (the pooled vector plus a constant-1 bias channel).
 */
import {
  type Tensor, type PrecisionSetting, type PrecisionChoice, type Precision, tensor, full, gem, l2normalize, concat, sub, mul, matmul, fullLike, slice, shapeString,
  resolvePrecision,
} from '../engine/index.js';
import { Module, Linear, ResNet, type Trunk, type TrunkOptions } from '../nn/index.js';
import { DataRng } from '../util/rng.js';
import { buildFeatures, preClassifierDropout, type Backbone } from './backbone.js';

export interface MultiGrainOptions {
  /** A ResNet depth (18, 34, 50, 101, 152) or 'senet154', 'pnasnet5large', 'nasnetamobile'. */
  backbone: Backbone;
  numClasses: number;
  /** GeM exponent (1 = average pooling, 3 in the paper's joint runs, Infinity = max pooling). */
  poolingExponent?: number;
  /** Make p a trainable parameter (p-finetuning) instead of a fixed buffer. */
  learnP?: boolean;
  /** ResNet base width (64 = the real network; smaller for tests). */
  baseWidth?: number;
  /** Width parameters of the non-ResNet trunks (defaults: the published nets; smaller for tests). */
  trunkOptions?: TrunkOptions;
  /** Dropout before the classifier in training (default: the trunk's, as the original keeps it). */
  dropout?: number;
  seed?: number;
}

export interface MultiGrainOutput {
  /** Pooled (possibly whitened) embedding, un-normalized: [N, D]. */
  embedding: Tensor;
  /** embedding / (||embedding|| + 1e-6): [N, D]. */
  normalizedEmbedding: Tensor;
  /** Classifier output: [N, classes]. */
  logits: Tensor;
}

/** GeM pooling with its exponent `p` (a [1] tensor: buffer, or parameter when learned). */
export class GeMPool extends Module {
  p: Tensor;
  constructor(p: number, learn: boolean) {
    super();
    this.p = learn ? this.addParameter('p', tensor([p], [1])) : this.addBuffer('p', tensor([p], [1]));
  }

  /** Makes p trainable (or fixed), keeping its value. */
  setLearnable(learn: boolean): void {
    this.replaceTensor('p', this.p, learn);
    this.p.requiresGrad = learn;
  }

  /** GeM of `x` at the module's p, or at `p` ([1]) when given (the p-grid evaluates several on one feature map). */
  forward(x: Tensor, p: Tensor = this.p): Tensor {
    return gem(x, p);
  }
}

/** The PCA parameters: mean `pca_m` [D] and projection `pca_P` [D, D]. */
class Pca extends Module {
  readonly m: Tensor;
  readonly P: Tensor;
  constructor(dim: number) {
    super();
    this.m = this.addBuffer('pca_m', tensor(new Float32Array(dim), [dim]));
    this.P = this.addBuffer('pca_P', full([dim, dim], 0));
  }
}

/** PCA whitening applied to l2-normalized vectors: (l2n(x) - m) P. */
export class PcaWhitening extends Module {
  readonly pca: Pca;
  constructor(dim: number) {
    super();
    this.pca = this.addModule('pca', new Pca(dim));
  }

  forward(x: Tensor): Tensor {
    const n = l2normalize(x);
    const centered = sub(n, this.pca.m);
    n.dispose();
    const out = matmul(centered, this.pca.P);
    centered.dispose();
    return out;
  }
}

export class MultiGrain extends Module {
  readonly features: Trunk;
  readonly pool: GeMPool;
  classifier: Linear;
  whitening: PcaWhitening | null = null;
  readonly options: Required<Omit<MultiGrainOptions, 'seed' | 'trunkOptions'>> & { trunkOptions: TrunkOptions };
  /** Draws the pre-classifier dropout masks. */
  private readonly dropoutRng: DataRng;

  constructor(options: MultiGrainOptions) {
    super();
    const seed = options.seed ?? 0;
    this.options = {
      backbone: options.backbone,
      numClasses: options.numClasses,
      poolingExponent: options.poolingExponent ?? 1,
      learnP: options.learnP ?? false,
      baseWidth: options.baseWidth ?? 64,
      trunkOptions: options.trunkOptions ?? {},
      dropout: options.dropout ?? preClassifierDropout(options.backbone),
    };
    if (!(this.options.dropout >= 0 && this.options.dropout < 1)) throw new Error(`MultiGrain: dropout must be in [0, 1), got ${this.options.dropout}`);
    this.dropoutRng = new DataRng(seed + 2);
    this.features = this.addModule('features', buildFeatures(options.backbone, { baseWidth: this.options.baseWidth, trunkOptions: this.options.trunkOptions, seed }));
    this.pool = this.addModule('pool', new GeMPool(this.options.poolingExponent, this.options.learnP));
    this.classifier = this.addModule('classifier', new Linear(this.features.featureDim, options.numClasses, true, new DataRng(seed + 1)));
  }

  /** Dimension of the embedding (2048 for ResNet-50; +1 once whitened). */
  get embeddingDim(): number {
    return this.features.featureDim + (this.whitening ? 1 : 0);
  }

  /** Adds the whitening stage (2049-d); its values come from `whiten` or a checkpoint. */
  enableWhitening(): void {
    if (this.whitening) return;
    const dim = this.features.featureDim + 1;
    this.whitening = this.addModule('whitening', new PcaWhitening(dim));
    const old = this.classifier;
    this.classifier = new Linear(dim, this.options.numClasses, true);
    this.replaceModule('classifier', this.classifier);
    old.parameters().forEach((t) => t.dispose());
  }

  /**
   * The precision of inference (eval mode, autograd off): 'auto' is f16 where the device has
   * `shader-f16`, else f32. f16 runs the trunk with f16 weights and activations and f32
   * accumulation; pooling, whitening and the classifier stay f32. Returns the precision used
   * and why, for the run's log. The f16 weights are a snapshot: set it after loading weights.
   */
  setPrecision(setting: PrecisionSetting): PrecisionChoice {
    const choice = resolvePrecision(setting);
    if (!(this.features instanceof ResNet)) {
      // only the ResNet trunks have f16 kernels for every layer (the NAS cells' depthwise and pooling ops are f32)
      return choice.precision === 'f16' ? { precision: 'f32', reason: `f32: f16 runs the ResNet trunks only, not ${this.options.backbone}` } : choice;
    }
    this.features.setPrecision(choice.precision);
    return choice;
  }

  /** The storage precision of the trunk's inference (f16 only on ResNet trunks, after setPrecision). */
  get precision(): Precision {
    return this.features instanceof ResNet ? this.features.precision : 'f32';
  }

  /** Pooled vector, with the constant-1 bias channel once whitened. */
  pooled(x: Tensor): Tensor {
    const f = this.features.features(x);
    const e = this.poolFeatures(f);
    f.dispose();
    return e;
  }

  /** The pooling stage on trunk feature maps [N, C, h, w]: GeM (at `p` when given), plus the bias channel once whitened. */
  poolFeatures(f: Tensor, p?: Tensor): Tensor {
    const e = this.pool.forward(f, p);
    if (!this.whitening) return e;
    const ones = fullLike(slice(e, 1, 0, 1), 1);
    const withBias = concat([e, ones], 1);
    e.dispose();
    ones.dispose();
    return withBias;
  }

  forward(x: Tensor): MultiGrainOutput {
    if (x.rank !== 4) throw new Error(`MultiGrain: input must be [N, 3, H, W], got ${shapeString(x.shape)}`);
    const f = this.features.features(x);
    const out = this.head(f);
    f.dispose();
    return out;
  }

  /**
   * Everything after the trunk: pooling, (whitening,) normalization and classifier, from trunk
   * feature maps; `p` ([1]) pools at another exponent than the model's without changing it.
   */
  head(f: Tensor, p?: Tensor): MultiGrainOutput {
    const pooled = this.poolFeatures(f, p);
    let embedding = pooled;
    if (this.whitening) {
      embedding = this.whitening.forward(pooled);
      pooled.dispose();
    }
    const classifierInput = this.preClassifier(embedding);
    const logits = this.classifier.forward(classifierInput);
    if (classifierInput !== embedding) classifierInput.dispose();
    return { embedding, normalizedEmbedding: l2normalize(embedding), logits };
  }

  /**
   * The original's pre_classifier: dropout in training mode (scaled by 1 / (1 - p)), sparing the
   * whitened embedding's bias channel (the original's `Select(pre_classifier, -1)`); the identity
   * otherwise.
   */
  private preClassifier(e: Tensor): Tensor {
    const p = this.options.dropout;
    if (!this.training || p === 0) return e;
    const [n, d] = e.shape as [number, number];
    const mask = new Float32Array(n * d);
    for (let i = 0; i < mask.length; i++) {
      const biasChannel = this.whitening !== null && i % d === d - 1;
      mask[i] = biasChannel ? 1 : this.dropoutRng.random() < p ? 0 : 1 / (1 - p);
    }
    const m = tensor(mask, [n, d]);
    const out = mul(e, m);
    m.dispose();
    return out;
  }
}
