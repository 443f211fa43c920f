/** `multigrain train`: flags (the original's names and defaults) → the library's train(). */
import { optionFlags, optionsHelp, parseOptions, type FlagSpecs } from './args.js';
import { train, TRAIN_DEFAULTS, TRAIN_OPTIONS, type TrainOptions } from '../multigrain/index.js';
import { flagText, type OptionSpec } from '../util/options.js';

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
  // applied as given: 0.8 x 96 / 512, the lr this recipe was measured with under the old linear scaling
  learningRate: 0.15,
  lrDropsEpochs: [1],
  lrDropsFactors: [0.1],
  trainSubset: 0,
  valSubset: 0,
  // Fashion-MNIST's garments fill the frame: a center crop cuts them (PyTorch, same net:
  // 78 % validation with the crop, 88 % without).
  valMode: 'rect',
  // one device: the whole batch, as the original's DataParallel on one GPU (and as measured)
  samplingReplicas: 1,
  logEvery: 25,
};

/** Options whose default depends on the dataset (Fashion-MNIST's run or the original's) take no flag default. */
const fixedDefault = (key: string): boolean => !(key in FASHION_MNIST_DEFAULTS);

/** The flags of `multigrain train`, built from TRAIN_OPTIONS (the one declaration of every option). */
export const TRAIN_FLAGS: FlagSpecs = optionFlags(TRAIN_OPTIONS, fixedDefault);

/** Builds TrainOptions: flags over the dataset's defaults (Fashion-MNIST unless a dataset is named). */
export function trainOptionsFromFlags(argv: string[]): Partial<TrainOptions> | null {
  const given = parseOptions(argv, TRAIN_OPTIONS, fixedDefault);
  if (!given) return null;
  const base: Partial<TrainOptions> = given.dataset === 'imagefolder' ? {} : FASHION_MNIST_DEFAULTS;
  return { ...base, ...given };
}

/** The value a flag takes by default for Fashion-MNIST and for an image folder, as the help shows it. */
function defaultsNote(key: string, spec: OptionSpec): string {
  const fm = FASHION_MNIST_DEFAULTS[key as keyof TrainOptions];
  if (fm === undefined || key === 'dataset') return '';
  return ` (default: Fashion-MNIST ${flagText(spec, fm)}, imagefolder ${flagText(spec, TRAIN_DEFAULTS[key as keyof TrainOptions])})`;
}

/** `multigrain train --help`: every flag; where the default depends on the dataset, both. */
export function trainHelp(): string {
  return optionsHelp('train', 'Trains a MultiGrain network (joint classification + margin loss). With no dataset flags it trains on the built-in Fashion-MNIST.', TRAIN_OPTIONS, fixedDefault, defaultsNote);
}

export async function trainCommand(argv: string[]): Promise<void> {
  const options = trainOptionsFromFlags(argv);
  if (!options) {
    console.log(trainHelp());
    return;
  }
  const result = await train(options);
  const last = result.history[result.history.length - 1];
  const expdir = options.expdir ?? TRAIN_DEFAULTS.expdir;
  if (last?.val) console.log(`${last.epoch === 0 ? 'validation before training' : 'final validation'}: top-1 ${last.val.top1.toFixed(2)}%, top-5 ${last.val.top5.toFixed(2)}%`);
  // Name only what this run wrote: with no epoch trained (--epochs 0, or a finished run) that is train_args.json alone.
  if (result.checkpoint) console.log(`experiment folder: ${expdir} (metrics.json, loss.svg, accuracy.svg, checkpoints)`);
  else console.log(`experiment folder: ${expdir} (train_args.json; no epoch trained, so no checkpoint, metrics.json or curves)`);
}
