/**
 * The MultiGrain network: ResNet trunk → GeM pooling → embedding e;
 * `normalizedEmbedding` = e / (||e|| + 1e-6) (for the margin loss and retrieval);
 * `logits` = classifier(e) on the un-normalized embedding. Any input size.
 *
 * Parameter names follow the original release: `features.*` (the trunk, torchvision
 * names), `pool.p`, `classifier.weight`, `classifier.bias`, and after whitening
 * `whitening.pca.pca_m`, `whitening.pca.pca_P` with a classifier reading the whitened
 * 2049-d vector (the pooled vector plus a constant-1 bias channel).
 */
import {
  type Tensor, type PrecisionSetting, type PrecisionChoice, tensor, full, gem, l2normalize, concat, sub, matmul, fullLike, slice, shapeString,
  resolvePrecision,
} from '../engine/index.js';
import { Module, ResNet, Linear, type ResNetDepth } from '../nn/index.js';
import { DataRng } from '../util/rng.js';

export interface MultiGrainOptions {
  backbone: ResNetDepth;
  numClasses: number;
  /** GeM exponent (1 = average pooling, 3 in the paper's joint runs, Infinity = max pooling). */
  poolingExponent?: number;
  /** Make p a trainable parameter (p-finetuning) instead of a fixed buffer. */
  learnP?: boolean;
  /** Trunk base width (64 = the real network; smaller for tests). */
  baseWidth?: number;
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

  forward(x: Tensor): Tensor {
    return gem(x, this.p);
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
  readonly features: ResNet;
  readonly pool: GeMPool;
  classifier: Linear;
  whitening: PcaWhitening | null = null;
  readonly options: Required<Omit<MultiGrainOptions, 'seed' | 'baseWidth'>> & { baseWidth: number };

  constructor(options: MultiGrainOptions) {
    super();
    const seed = options.seed ?? 0;
    this.options = {
      backbone: options.backbone,
      numClasses: options.numClasses,
      poolingExponent: options.poolingExponent ?? 1,
      learnP: options.learnP ?? false,
      baseWidth: options.baseWidth ?? 64,
    };
    this.features = this.addModule('features', new ResNet({ depth: options.backbone, baseWidth: this.options.baseWidth, seed, head: false }));
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
    this.features.setPrecision(choice.precision);
    return choice;
  }

  /** Pooled vector, with the constant-1 bias channel once whitened. */
  pooled(x: Tensor): Tensor {
    const f = this.features.features(x);
    const e = this.poolFeatures(f);
    f.dispose();
    return e;
  }

  /** The pooling stage on trunk feature maps [N, C, h, w]: GeM, plus the bias channel once whitened. */
  poolFeatures(f: Tensor): Tensor {
    const e = this.pool.forward(f);
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

  /** Everything after the trunk: pooling, (whitening,) normalization and classifier, from trunk feature maps. */
  head(f: Tensor): MultiGrainOutput {
    const pooled = this.poolFeatures(f);
    let embedding = pooled;
    if (this.whitening) {
      embedding = this.whitening.forward(pooled);
      pooled.dispose();
    }
    return {
      embedding,
      normalizedEmbedding: l2normalize(embedding),
      logits: this.classifier.forward(embedding),
    };
  }
}
