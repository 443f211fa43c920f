/**
 * Options of `multigrain train`, with the original release's names and defaults
 * (ANCHORS.md 5.1), plus the dataset selection of this engine.
 */
import type { ResNetDepth } from '../../nn/index.js';
import type { TrainRecipe, ValidationMode } from '../../data/index.js';

export type DatasetName = 'fashion-mnist' | 'imagefolder';

export interface TrainOptions {
  /** Experiment folder: arguments, checkpoints, metrics, curves. */
  expdir: string;
  /** Experiment folder or checkpoint file to resume from (default: expdir itself, if it has checkpoints). */
  resumeFrom?: string;
  /** -1: last checkpoint, 0: from scratch, N: that epoch. */
  resumeEpoch: number;
  /** Base learning rate for batch 512 (scaled linearly with the batch size). */
  learningRate: number;
  weightDecay: number;
  momentum: number;
  inputSize: number;
  batchSize: number;
  /** Batches per optimizer step. */
  gradientAccum: number;
  /** RA count m: consecutive copies of each image in a batch. */
  repeatedAugmentations: number;
  augmentation: TrainRecipe;
  /** RandomResizedCrop's area range (the original: 0.08-1; small images want a larger minimum). */
  cropScale: [number, number];
  epochs: number;
  epochLenFactor: number;
  backbone: ResNetDepth;
  /** Trunk base width (64 = the real ResNet; smaller = faster, for small data). */
  baseWidth: number;
  /** torchvision ResNet weights (.pth) or a MultiGrain checkpoint to start the trunk from. */
  pretrainedBackbone?: string;
  lrDropsEpochs: number[];
  lrDropsFactors: number[];
  /**
   * Epochs (fractions allowed) over which the learning rate ramps up linearly, batch by batch,
   * to its scheduled value (Goyal et al.'s gradual warmup; 0 = none, as the original). Keeps a
   * large lr from blowing the loss up in the first steps.
   */
  warmupEpochs: number;
  poolingExponent: number;
  betaInit: number;
  betaLr: number;
  /** lambda: loss = lambda * CE + (1 - lambda) * margin. */
  classifWeight: number;
  /** Keep checkpoint_N every N epochs (the last is always kept). */
  saveEvery: number;
  validateFirst: boolean;
  seed: number;
  workers: number;
  dataset: DatasetName;
  /** Dataset root (imagefolder: folder with train/ and val/; fashion-mnist: IDX folder). */
  dataPath?: string;
  /** Read metrics back (and draw progress) every N steps. */
  logEvery: number;
  /** Skip unreadable images with a warning instead of stopping. */
  skipUnreadable: boolean;
  /** Use only the first N training images (0 = all); for quick runs. */
  trainSubset: number;
  /** Use only the first N validation images (0 = all). */
  valSubset: number;
  /**
   * Validation transform: 'square' (shorter side to size x 256/224, center crop: ImageNet's)
   * or 'rect' (longest side to size, no crop: for images whose object fills the frame).
   */
  valMode: ValidationMode;
  /** Draw a progress bar on stderr. */
  progress: boolean;
}

export const TRAIN_DEFAULTS: TrainOptions = {
  expdir: 'experiments/resnet50',
  resumeEpoch: -1,
  learningRate: 0.2,
  weightDecay: 1e-4,
  momentum: 0.9,
  inputSize: 224,
  batchSize: 512,
  gradientAccum: 1,
  repeatedAugmentations: 1,
  augmentation: 'full',
  cropScale: [0.08, 1],
  epochs: 120,
  epochLenFactor: 2.0,
  backbone: 50,
  baseWidth: 64,
  lrDropsEpochs: [30, 60, 90],
  lrDropsFactors: [0.1, 0.1, 0.1],
  warmupEpochs: 0,
  poolingExponent: 1,
  betaInit: 1.2,
  betaLr: 1,
  classifWeight: 1,
  saveEvery: 10,
  validateFirst: true,
  seed: 0,
  workers: 2,
  dataset: 'imagefolder',
  logEvery: 20,
  skipUnreadable: false,
  trainSubset: 0,
  valSubset: 0,
  valMode: 'square',
  progress: true,
};

/** Refuses combinations the method cannot train, with the reason. */
export function validateTrainOptions(o: TrainOptions): void {
  if (o.repeatedAugmentations < 1 || !Number.isInteger(o.repeatedAugmentations)) {
    throw new Error(`--repeated-augmentations must be a positive integer, got ${o.repeatedAugmentations}`);
  }
  if (o.classifWeight < 0 || o.classifWeight > 1) throw new Error(`--classif-weight must be in [0, 1], got ${o.classifWeight}`);
  if (o.repeatedAugmentations === 1 && o.classifWeight < 1) {
    throw new Error(
      `--classif-weight ${o.classifWeight} needs the margin loss, which needs positive pairs: ` +
        'use --repeated-augmentations >= 2 (the paper uses 3), or --classif-weight 1.0',
    );
  }
  if (o.batchSize < 1 || o.batchSize % 1 !== 0) throw new Error(`--batch-size must be a positive integer, got ${o.batchSize}`);
  if (o.gradientAccum < 1) throw new Error(`--gradient-accum must be >= 1, got ${o.gradientAccum}`);
  if (o.inputSize < 32) throw new Error(`--input-size must be at least 32 (ResNet downsamples by 32), got ${o.inputSize}`);
  if (o.lrDropsEpochs.length !== o.lrDropsFactors.length) {
    throw new Error(`--lr-drops-epochs (${o.lrDropsEpochs.length} values) and --lr-drops-factors (${o.lrDropsFactors.length}) must have the same length`);
  }
  if (!(o.warmupEpochs >= 0 && Number.isFinite(o.warmupEpochs)) || o.warmupEpochs > o.epochs) {
    throw new Error(`--warmup-epochs must be between 0 and --epochs (${o.epochs}), got ${o.warmupEpochs}`);
  }
  if (![18, 34, 50, 101, 152].includes(o.backbone)) throw new Error(`--backbone resnet${o.backbone} is not supported (resnet18/34/50/101/152)`);
}
