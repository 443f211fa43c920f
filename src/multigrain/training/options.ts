/**
 * Options of `multigrain train`, with the original release's names and defaults, plus the
 * dataset selection of this engine.
 */
import { BACKBONE_FLAGS, backboneFromFlag, backboneFlag, isBackbone, type Backbone } from '../backbone.js';
import type { TrainRecipe, ValidationMode } from '../../data/index.js';
import { defaultsOf, flagText, validateOptions, type OptionTable, type OptionValues } from '../../util/options.js';

export type DatasetName = 'fashion-mnist' | 'imagefolder';

/**
 * Every option of `train`, declared once: the flag of `multigrain train`, its type, default and
 * help line. `TrainOptions` and `TRAIN_DEFAULTS` are derived from it, and the CLI builds its
 * parser and `--help` from it (src/cli/train-command.ts).
 */
export const TRAIN_OPTIONS = {
  /** Experiment folder: arguments, checkpoints, metrics, curves. */
  expdir: { flag: 'expdir', type: 'string', default: 'experiments/resnet50', help: 'experiment folder (arguments, checkpoints, metrics, curves)' },
  /** Experiment folder or checkpoint file to resume from (default: expdir itself, if it has checkpoints). */
  resumeFrom: { flag: 'resume-from', type: 'string', help: 'experiment folder or checkpoint file to resume from (default: expdir)' },
  /** -1: last checkpoint, 0: from scratch, N: that epoch. */
  resumeEpoch: { flag: 'resume-epoch', type: 'int', default: -1, min: -1, help: '-1: last checkpoint, 0: from scratch, N: that epoch' },
  /** Base learning rate, applied as given (as the original's train.py), unless --lr-scaling linear. */
  learningRate: { flag: 'learning-rate', type: 'number', default: 0.2, min: 0, exclusiveMin: true, help: 'base learning rate, applied as given (see --lr-scaling)' },
  /**
   * 'none': the lr is --learning-rate (the original). 'linear': --learning-rate is meant for 512
   * images per step and is multiplied by batch x gradient-accum / 512 (Goyal et al. 2017,
   * "Accurate, Large Minibatch SGD", the linear scaling rule).
   */
  lrScaling: { flag: 'lr-scaling', type: 'string', default: 'none', choices: ['none', 'linear'], help: 'none: lr as given (the original); linear: lr x batch x accum / 512 (Goyal et al. 2017)' },
  weightDecay: { flag: 'weight-decay', type: 'number', default: 1e-4, min: 0, help: 'SGD weight decay of the network weights' },
  momentum: { flag: 'momentum', type: 'number', default: 0.9, min: 0, max: 1, exclusiveMax: true, help: 'SGD momentum' },
  inputSize: { flag: 'input-size', type: 'int', default: 224, min: 32, rangeNote: 'ResNet downsamples by 32', help: 'training crop size' },
  batchSize: { flag: 'batch-size', type: 'int', default: 512, min: 1, help: 'batch size (samples, repetitions counted)' },
  /** Batches per optimizer step; their gradients are summed (the loss is not divided), as the original. */
  gradientAccum: { flag: 'gradient-accum', type: 'int', default: 1, min: 1, help: 'batches per optimizer step (gradients summed, as the original)' },
  /**
   * The batches left at an epoch's end that do not fill a --gradient-accum step: 'drop' (the
   * original: train.py resets its counter at each epoch, and the next step's zero_grad discards
   * them) or 'step' (one smaller step with them at the epoch's end).
   */
  partialAccum: { flag: 'partial-accum', type: 'string', default: 'drop', choices: ['drop', 'step'], help: "an epoch's last batches that do not fill a --gradient-accum step: drop (the original) or step" },
  /** RA count m: consecutive copies of each image in a batch. */
  repeatedAugmentations: { flag: 'repeated-augmentations', type: 'int', default: 1, min: 1, help: 'RA count m (paper: 3); m = 1 needs --classif-weight 1' },
  augmentation: { flag: 'augmentation', type: 'string', default: 'full', choices: ['torch', 'full', 'senet', 'AA'], help: 'training augmentation' },
  /** RandomResizedCrop's area range (the original: 0.08-1; small images want a larger minimum). */
  cropScale: {
    flag: 'crop-scale', type: 'numbers', default: [0.08, 1], help: 'RandomResizedCrop area range min,max (original: 0.08,1)',
    min: 0, exclusiveMin: true, max: 1,
    fromFlag: (v: number[]): [number, number] => {
      if (v.length !== 2) throw new Error(`--crop-scale needs two numbers min,max, got ${v.join(',')}`);
      return [v[0]!, v[1]!];
    },
    check: (v: readonly number[], name: string): void => {
      if (v.length !== 2 || v[0]! > v[1]!) throw new Error(`${name} needs two numbers min,max with 0 < min <= max <= 1, got ${v.join(',')}`);
    },
  },
  epochs: { flag: 'epochs', type: 'int', default: 120, min: 0, help: 'epochs' },
  epochLenFactor: { flag: 'epoch-len-factor', type: 'number', default: 2.0, min: 0, exclusiveMin: true, help: 'samples per epoch = factor x dataset size' },
  backbone: {
    flag: 'backbone', type: 'string', default: 50, choices: BACKBONE_FLAGS, help: 'trunk',
    fromFlag: (v: string): Backbone => backboneFromFlag(v),
    toFlag: (v: Backbone): string => backboneFlag(v),
  },
  /** Trunk base width (64 = the real ResNet; smaller = faster, for small data). */
  baseWidth: { flag: 'base-width', type: 'int', default: 64, min: 1, help: 'trunk width (64 = the real ResNet; smaller for small data)' },
  /**
   * ImageNet weights (.pth: torchvision's ResNet, Cadene's SENet154 / PNASNet / NASNet layout) or a
   * MultiGrain checkpoint to start the trunk from; the SENet / NASNet widths are read from it.
   */
  pretrainedBackbone: { flag: 'pretrained-backbone', type: 'string', help: 'ImageNet .pth of the trunk (torchvision / Cadene layout) or a MultiGrain checkpoint' },
  lrDropsEpochs: { flag: 'lr-drops-epochs', type: 'numbers', default: [30, 60, 90], min: 0, help: 'epochs after which the lr is multiplied' },
  lrDropsFactors: { flag: 'lr-drops-factors', type: 'numbers', default: [0.1, 0.1, 0.1], min: 0, exclusiveMin: true, help: 'the multiplier at each drop' },
  /**
   * Epochs (fractions allowed) over which the learning rate ramps up linearly, batch by batch,
   * to its scheduled value (Goyal et al.'s gradual warmup; 0 = none, as the original). Keeps a
   * large lr from blowing the loss up in the first steps.
   */
  warmupEpochs: { flag: 'warmup-epochs', type: 'number', default: 0, min: 0, help: 'epochs of linear lr warmup, batch by batch (0: none, as the original)' },
  poolingExponent: { flag: 'pooling-exponent', type: 'number', default: 1, min: 0, exclusiveMin: true, help: 'GeM exponent p (1 = average pooling; paper: 3)' },
  betaInit: { flag: 'beta-init', type: 'number', default: 1.2, min: 0, help: 'initial margin beta' },
  betaLr: { flag: 'beta-lr', type: 'number', default: 1, min: 0, help: 'beta learning-rate multiplier' },
  /**
   * Replicas N of the margin loss's sampling: anchors, positives and negatives are drawn inside
   * each of N contiguous slices of the batch, as the original's default under DataParallel on N
   * GPUs. 0: 8 at batch 512 (the original's 8 GPUs), otherwise ceil(batch / 64) (slices of 64).
   */
  samplingReplicas: { flag: 'sampling-replicas', type: 'int', default: 0, min: 0, help: 'sample triplets inside N slices of the batch (0: 8 at batch 512, else slices of 64)' },
  /** Sample the triplets over the whole batch (the original's --global-sampling). */
  globalSampling: { flag: 'global-sampling', type: 'boolean', default: false, help: 'sample triplets over the whole batch instead of per replica' },
  /** lambda: loss = lambda * CE + (1 - lambda) * margin. */
  classifWeight: { flag: 'classif-weight', type: 'number', default: 1, min: 0, max: 1, help: 'lambda: loss = lambda CE + (1 - lambda) margin (paper: 0.5)' },
  /** Keep checkpoint_N every N epochs (the last is always kept; 0: only the last). */
  saveEvery: { flag: 'save-every', type: 'int', default: 10, min: 0, help: 'keep checkpoint_N every N epochs (the last is always kept; 0: only the last)' },
  validateFirst: { flag: 'no-validate-first', negated: true, type: 'boolean', default: true, help: 'skip the validation before the first epoch' },
  seed: { flag: 'seed', type: 'int', default: 0, help: 'seed of sampling, augmentation and initialization' },
  workers: { flag: 'workers', type: 'int', default: 2, help: 'data loader worker threads' },
  /**
   * Colour jitter, lighting and normalisation of training batches on the GPU (the loader's
   * gpuAugment: uint8 crops, a quarter of the upload, same draws as the CPU path). Off: the
   * CPU path (used anyway where the dataset or transform cannot go through the loader's workers).
   */
  gpuAugment: { flag: 'no-gpu-augment', negated: true, type: 'boolean', default: true, help: 'colour-augment training batches on the CPU, not the GPU' },
  dataset: { flag: 'dataset', type: 'string', default: 'imagefolder', choices: ['fashion-mnist', 'imagefolder'], help: 'training data' },
  /** Dataset root (imagefolder: folder with train/ and val/; fashion-mnist: IDX folder). */
  dataPath: { flag: 'data-path', type: 'string', help: 'dataset root (imagefolder: a folder with train/ and val/)' },
  /** Read metrics back (and draw progress) every N steps. */
  logEvery: { flag: 'log-every', type: 'int', default: 20, min: 1, help: 'read metrics back and redraw progress every N steps' },
  /** Use only the first N training images (0 = all); for quick runs. */
  trainSubset: { flag: 'train-subset', type: 'int', default: 0, min: 0, help: 'use the first N training images only (0 = all)' },
  /** Use only the first N validation images (0 = all). */
  valSubset: { flag: 'val-subset', type: 'int', default: 0, min: 0, help: 'use the first N validation images only (0 = all)' },
  /**
   * Validation transform: 'square' (shorter side to size x 256/224, center crop: ImageNet's)
   * or 'rect' (longest side to size, no crop: for images whose object fills the frame).
   */
  valMode: { flag: 'val-mode', type: 'string', default: 'square', choices: ['square', 'rect'], help: 'validation transform: square (resize + center crop) or rect (whole image)' },
  /** Skip unreadable images with a warning instead of stopping. */
  skipUnreadable: { flag: 'skip-unreadable', type: 'boolean', default: false, help: 'skip unreadable images with a warning instead of stopping' },
  /**
   * Resume even though the experiment folder's train_args.json holds other values for options
   * that shape the run (listed, then train_args.json is rewritten). Without it such a resume is
   * refused, naming each difference (see RESUME_FREE_OPTIONS for the options never compared).
   */
  forceArgs: { flag: 'force-args', type: 'boolean', default: false, help: 'resume even if options differ from the folder\'s train_args.json (they are listed)' },
  /** Draw a progress bar on stderr (library only; the CLI always draws it). */
  progress: { type: 'boolean', default: true, help: 'draw a progress bar on stderr' },
} as const satisfies OptionTable;

/** Options of `train` (see TRAIN_OPTIONS for each one's flag, default and meaning). */
export type TrainOptions = OptionValues<typeof TRAIN_OPTIONS>;

export const TRAIN_DEFAULTS: TrainOptions = defaultsOf(TRAIN_OPTIONS);

// The table's choices are the library's types (a compile error here means they drifted apart).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const check: [
  Same<TrainOptions['augmentation'], TrainRecipe>, Same<TrainOptions['valMode'], ValidationMode>, Same<TrainOptions['dataset'], DatasetName>,
  Same<TrainOptions['backbone'], Backbone>, Same<TrainOptions['cropScale'], [number, number]>,
] = [true, true, true, true, true];
void check;

/**
 * Options that may differ between a folder's saved train_args.json and a run resuming it:
 * where and how to resume, where the folder is, how long to train (extending a finished run
 * is what resuming is for), and what changes neither the trained weights nor the recorded
 * metrics (display, read-back frequency, worker threads, where the colour augmentation runs, which checkpoints are kept, the
 * validation before epoch 1 of a fresh start, skipping unreadable images instead of stopping).
 * Every other option shapes the run and must match unless --force-args is given.
 */
export const RESUME_FREE_OPTIONS: readonly (keyof TrainOptions)[] = [
  'expdir', 'resumeFrom', 'resumeEpoch', 'epochs', 'progress', 'workers', 'gpuAugment', 'logEvery', 'saveEvery', 'validateFirst', 'skipUnreadable', 'forceArgs',
];

/** One option whose value differs between a saved run and a new one. */
export interface OptionChange {
  key: keyof TrainOptions;
  /** `--flag old → new`, as the flags write the values. */
  text: string;
}

/**
 * What runs saved before an option existed did, where that is not the option's default: the lr
 * was scaled linearly, the sampling was global, and a partial accumulation made a step.
 */
const VALUES_BEFORE_OPTION: Partial<TrainOptions> = { lrScaling: 'linear', samplingReplicas: 1, partialAccum: 'step' };

/**
 * The options that shape the run and differ between `saved` (a folder's train_args.json) and
 * `now`. An option missing from `saved` (a file from before the option existed) counts as what
 * that run did: its default, or the value in VALUES_BEFORE_OPTION.
 */
export function changedTrainOptions(saved: Record<string, unknown>, now: TrainOptions): OptionChange[] {
  const out: OptionChange[] = [];
  for (const [key, spec] of Object.entries(TRAIN_OPTIONS) as [keyof TrainOptions, (typeof TRAIN_OPTIONS)[keyof TrainOptions]][]) {
    if (RESUME_FREE_OPTIONS.includes(key)) continue;
    const before = key in saved ? saved[key] : key in VALUES_BEFORE_OPTION ? VALUES_BEFORE_OPTION[key] : TRAIN_DEFAULTS[key];
    const after = now[key];
    if (JSON.stringify(before) === JSON.stringify(after)) continue;
    const show = (v: unknown) => (v === undefined ? '(none)' : flagText(spec, v));
    const name = 'flag' in spec ? `--${spec.flag}` : key;
    out.push({ key, text: `${name} ${show(before)} → ${show(after)}` });
  }
  return out;
}

/**
 * Refuses what the method cannot train, naming the flag: each option outside its declared
 * range (TRAIN_OPTIONS' `min` / `max`, the same check as the CLI parser's), then combinations.
 */
export function validateTrainOptions(o: TrainOptions): void {
  validateOptions(TRAIN_OPTIONS, o);
  if (o.repeatedAugmentations === 1 && o.classifWeight !== 1) {
    // the original's message (scripts/train.py), then what it means here
    throw new Error(
      'Margin loss in undefined for repeated_augmentations == 1; set --classif-weight=1.0 ' +
        `(--classif-weight ${o.classifWeight} needs positive pairs: use --repeated-augmentations >= 2, the paper uses 3)`,
    );
  }
  if (o.globalSampling && o.samplingReplicas > 1) {
    throw new Error(`--global-sampling samples over the whole batch; it cannot go with --sampling-replicas ${o.samplingReplicas}`);
  }
  if (o.samplingReplicas > o.batchSize) {
    throw new Error(`--sampling-replicas ${o.samplingReplicas} is more than --batch-size ${o.batchSize}: a replica needs at least one image`);
  }
  if (o.lrDropsEpochs.length !== o.lrDropsFactors.length) {
    throw new Error(`--lr-drops-epochs (${o.lrDropsEpochs.length} values) and --lr-drops-factors (${o.lrDropsFactors.length}) must have the same length`);
  }
  if (o.warmupEpochs > o.epochs) throw new Error(`--warmup-epochs must be between 0 and --epochs (${o.epochs}), got ${o.warmupEpochs}`);
  if (!isBackbone(o.backbone)) throw new Error(`--backbone ${String(o.backbone)} is not supported (${BACKBONE_FLAGS.join(', ')})`);
}
