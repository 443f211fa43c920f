/** `multigrain train`: flags (the original's names and defaults) → the library's train(). */
import { parseFlags, helpText, camel, type FlagSpecs } from './args.js';
import { train, TRAIN_DEFAULTS, type TrainOptions } from '../multigrain/index.js';
import type { TrainRecipe } from '../data/index.js';

const D = TRAIN_DEFAULTS;

/** Settings of the built-in default run (Fashion-MNIST, about 2 minutes on 2 CPU cores with lavapipe). */
export const FASHION_MNIST_DEFAULTS: Partial<TrainOptions> = {
  expdir: 'experiments/fashion-mnist',
  dataset: 'fashion-mnist',
  backbone: 18,
  baseWidth: 8,
  inputSize: 32,
  batchSize: 96,
  repeatedAugmentations: 3,
  classifWeight: 0.5,
  poolingExponent: 3,
  augmentation: 'torch',
  cropScale: [0.35, 1],
  epochs: 3,
  epochLenFactor: 0.9,
  learningRate: 0.8,
  lrDropsEpochs: [1],
  lrDropsFactors: [0.1],
  trainSubset: 0,
  valSubset: 0,
  // Fashion-MNIST's garments fill the frame: a center crop cuts them (PyTorch, same net:
  // 78 % validation with the crop, 88 % without).
  valMode: 'rect',
  logEvery: 25,
};

export const TRAIN_FLAGS: FlagSpecs = {
  expdir: { type: 'string', help: 'experiment folder (arguments, checkpoints, metrics, curves)' },
  'resume-from': { type: 'string', help: 'experiment folder or checkpoint file to resume from (default: expdir)' },
  'resume-epoch': { type: 'int', help: '-1: last checkpoint, 0: from scratch, N: that epoch', default: D.resumeEpoch },
  'learning-rate': { type: 'number', help: 'base learning rate for batch 512 (scaled linearly with the batch)' },
  'weight-decay': { type: 'number', help: 'SGD weight decay of the network weights', default: D.weightDecay },
  momentum: { type: 'number', help: 'SGD momentum', default: D.momentum },
  'input-size': { type: 'int', help: 'training crop size' },
  'batch-size': { type: 'int', help: 'batch size (samples, repetitions counted)' },
  'gradient-accum': { type: 'int', help: 'batches per optimizer step', default: D.gradientAccum },
  'repeated-augmentations': { type: 'int', help: 'RA count m (paper: 3); m = 1 needs --classif-weight 1' },
  augmentation: { type: 'string', help: 'training augmentation', choices: ['torch', 'full', 'senet', 'AA'] },
  'crop-scale': { type: 'numbers', help: 'RandomResizedCrop area range min,max (original: 0.08,1)' },
  epochs: { type: 'int', help: 'epochs' },
  'epoch-len-factor': { type: 'number', help: 'samples per epoch = factor x dataset size' },
  backbone: { type: 'string', help: 'trunk', choices: ['resnet18', 'resnet34', 'resnet50', 'resnet101', 'resnet152'] },
  'base-width': { type: 'int', help: 'trunk width (64 = the real ResNet; smaller for small data)' },
  'pretrained-backbone': { type: 'string', help: 'torchvision ResNet .pth (or MultiGrain checkpoint) for the trunk' },
  'lr-drops-epochs': { type: 'numbers', help: 'epochs after which the lr is multiplied' },
  'lr-drops-factors': { type: 'numbers', help: 'the multiplier at each drop' },
  'warmup-epochs': { type: 'number', help: 'epochs of linear lr warmup, batch by batch (0: none, as the original)', default: D.warmupEpochs },
  'pooling-exponent': { type: 'number', help: 'GeM exponent p (1 = average pooling; paper: 3)' },
  'beta-init': { type: 'number', help: 'initial margin beta', default: D.betaInit },
  'beta-lr': { type: 'number', help: 'beta learning-rate multiplier', default: D.betaLr },
  'classif-weight': { type: 'number', help: 'lambda: loss = lambda CE + (1 - lambda) margin (paper: 0.5)' },
  'save-every': { type: 'int', help: 'keep checkpoint_N every N epochs (the last is always kept)', default: D.saveEvery },
  'no-validate-first': { type: 'boolean', help: 'skip the validation before the first epoch' },
  seed: { type: 'int', help: 'seed of sampling, augmentation and initialization', default: D.seed },
  workers: { type: 'int', help: 'data loader worker threads', default: D.workers },
  dataset: { type: 'string', help: 'training data', choices: ['fashion-mnist', 'imagefolder'] },
  'data-path': { type: 'string', help: 'dataset root (imagefolder: a folder with train/ and val/)' },
  'log-every': { type: 'int', help: 'read metrics back and redraw progress every N steps' },
  'train-subset': { type: 'int', help: 'use the first N training images only (0 = all)' },
  'val-subset': { type: 'int', help: 'use the first N validation images only (0 = all)' },
  'val-mode': { type: 'string', help: 'validation transform: square (resize + center crop) or rect (whole image)', choices: ['square', 'rect'] },
  'skip-unreadable': { type: 'boolean', help: 'skip unreadable images with a warning instead of stopping' },
  help: { type: 'boolean', help: 'show this help' },
};

/** Builds TrainOptions: flags over the dataset's defaults (Fashion-MNIST unless a dataset is named). */
export function trainOptionsFromFlags(argv: string[]): Partial<TrainOptions> | null {
  const f = parseFlags(argv, TRAIN_FLAGS);
  if (f.help) return null;
  const base: Partial<TrainOptions> = f.dataset === 'imagefolder' ? {} : FASHION_MNIST_DEFAULTS;
  const o: Partial<TrainOptions> = { ...base };
  const set = <K extends keyof TrainOptions>(key: K, value: unknown) => {
    if (value !== undefined) o[key] = value as TrainOptions[K];
  };
  set('expdir', f.expdir);
  set('resumeFrom', f.resumeFrom);
  set('resumeEpoch', f.resumeEpoch);
  set('learningRate', f.learningRate);
  set('weightDecay', f.weightDecay);
  set('momentum', f.momentum);
  set('inputSize', f.inputSize);
  set('batchSize', f.batchSize);
  set('gradientAccum', f.gradientAccum);
  set('repeatedAugmentations', f.repeatedAugmentations);
  set('augmentation', f.augmentation as TrainRecipe | undefined);
  if (f.cropScale) {
    const v = f.cropScale as number[];
    if (v.length !== 2) throw new Error(`--crop-scale needs two numbers min,max, got ${v.join(',')}`);
    o.cropScale = [v[0], v[1]];
  }
  set('epochs', f.epochs);
  set('epochLenFactor', f.epochLenFactor);
  if (f.backbone) o.backbone = Number(String(f.backbone).replace('resnet', '')) as TrainOptions['backbone'];
  set('baseWidth', f.baseWidth);
  set('pretrainedBackbone', f.pretrainedBackbone);
  set('lrDropsEpochs', f.lrDropsEpochs);
  set('lrDropsFactors', f.lrDropsFactors);
  set('warmupEpochs', f.warmupEpochs);
  set('poolingExponent', f.poolingExponent);
  set('betaInit', f.betaInit);
  set('betaLr', f.betaLr);
  set('classifWeight', f.classifWeight);
  set('saveEvery', f.saveEvery);
  if (f.noValidateFirst) o.validateFirst = false;
  set('seed', f.seed);
  set('workers', f.workers);
  set('dataset', f.dataset);
  set('dataPath', f.dataPath);
  set('logEvery', f.logEvery);
  set('trainSubset', f.trainSubset);
  set('valSubset', f.valSubset);
  set('valMode', f.valMode);
  if (f.skipUnreadable) o.skipUnreadable = true;
  return o;
}

/** The value a flag takes by default for Fashion-MNIST and for an image folder, as the help shows it. */
function defaultsNote(flag: string): string {
  const key = camel(flag) as keyof TrainOptions;
  const fm = FASHION_MNIST_DEFAULTS[key];
  if (fm === undefined || key === 'dataset') return '';
  const show = (v: unknown) => (key === 'backbone' ? `resnet${String(v)}` : Array.isArray(v) ? v.join(',') : String(v));
  return ` (default: Fashion-MNIST ${show(fm)}, imagefolder ${show(TRAIN_DEFAULTS[key])})`;
}

/** `multigrain train --help`: every flag; where the default depends on the dataset, both. */
export function trainHelp(): string {
  const specs: FlagSpecs = {};
  for (const [flag, spec] of Object.entries(TRAIN_FLAGS)) {
    specs[flag] = spec.default === undefined ? { ...spec, help: spec.help + defaultsNote(flag) } : spec;
  }
  return helpText('train', 'Trains a MultiGrain network (joint classification + margin loss). With no dataset flags it trains on the built-in Fashion-MNIST.', specs);
}

export async function trainCommand(argv: string[]): Promise<void> {
  const options = trainOptionsFromFlags(argv);
  if (!options) {
    console.log(trainHelp());
    return;
  }
  const result = await train(options);
  const last = result.history[result.history.length - 1];
  if (last?.val) console.log(`final validation: top-1 ${last.val.top1.toFixed(2)}%, top-5 ${last.val.top5.toFixed(2)}%`);
  console.log(`experiment folder: ${options.expdir ?? TRAIN_DEFAULTS.expdir} (metrics.json, loss.svg, accuracy.svg, checkpoints)`);
}
