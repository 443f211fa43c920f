/**
 * `multigrain finetune-p`: adapts the GeM exponent of a trained model to a larger test scale
 * (the original's finetune_p.py flags and defaults). Reads the source run's
 * data settings, tunes p on the first --images-per-class training images of each class at
 * --input-size, validates before and after, and writes a new experiment folder.
 */
import { dirname, join } from 'node:path';
import { parseOptions, optionsHelp, definedFlags } from './args.js';
import { SOURCE_OPTIONS, IMAGE_OPTIONS, imageLoaderOptions, reportSkipped, openSource, runData, defaultTestScale, writeDerived, lockOutput, knownClasses, checkImageSize } from './source.js';
import { init } from '../engine/index.js';
import { DataLoader, type ValidationMode } from '../data/index.js';
import { finetuneP, FINETUNE_P_OPTION_SPECS, validateFinetunePOptions, shuffledImagesPerClass, openClassificationData, validate, lineChartSvg, inputNormalization } from '../multigrain/index.js';
import { writeFileAtomic } from '../io/index.js';
import type { OptionTable, OptionValues } from '../util/options.js';

const L = FINETUNE_P_OPTION_SPECS;

/**
 * The options of `multigrain finetune-p` (declared once: parser, types, defaults, ranges and
 * help; those finetuneP takes are the library's own declarations). The parser checks every
 * range, so a bad flag stops the command before the model or any data is read.
 */
export const FINETUNE_P_OPTIONS = {
  expdir: { flag: 'expdir', type: 'string', help: 'output experiment folder (default: <source folder>/finetune<size>)' },
  ...SOURCE_OPTIONS,
  learningRate: L.learningRate,
  learningRateDecayPower: L.decayPower,
  momentum: L.momentum,
  inputSize: { flag: 'input-size', type: 'int', help: 'test scale s* (default: the run\'s size x 500/224, else 500)', min: 1 },
  ...IMAGE_OPTIONS,
  inputCrop: { ...IMAGE_OPTIONS.inputCrop, default: 'rect' },
  batchSize: L.batchSize,
  imagesPerClass: { flag: 'images-per-class', type: 'int', help: 'tune on the first N training images of each class', default: 50, min: 1 },
  seed: { flag: 'seed', type: 'int', help: 'seed of the order the tuning images are visited in (shuffled, as the original)', default: 0, min: 0 },
  initPoolingExponent: L.initialP,
  noValidateFirst: { flag: 'no-validate-first', type: 'boolean', help: 'skip the validation before tuning' },
  noValidate: { flag: 'no-validate', type: 'boolean', help: 'skip the validation after tuning' },
  valSubset: { flag: 'val-subset', type: 'int', help: 'validate on the first N images only (0 = all)', default: 0, min: 0 },
  dataset: { flag: 'dataset', type: 'string', help: 'data (default: the run\'s, else fashion-mnist)', choices: ['fashion-mnist', 'imagefolder'] },
  dataPath: { flag: 'data-path', type: 'string', help: 'dataset root (imagefolder: a folder with train/ and val/)' },
  workers: { flag: 'workers', type: 'int', help: 'data loader worker threads', default: 2 },
} as const satisfies OptionTable;

export async function finetunePCommand(argv: string[]): Promise<void> {
  const f = parseOptions(argv, FINETUNE_P_OPTIONS) as OptionValues<typeof FINETUNE_P_OPTIONS> | null;
  if (!f) {
    console.log(optionsHelp('finetune-p', 'Learns the GeM exponent p at a test scale (the rest of the network frozen).', FINETUNE_P_OPTIONS));
    return;
  }
  const tuning = { learningRate: f.learningRate, decayPower: f.learningRateDecayPower, momentum: f.momentum, batchSize: f.batchSize };
  // the parser checked each flag; finetuneP's own check runs here too, before any work
  validateFinetunePOptions({ ...tuning, ...(f.initPoolingExponent !== undefined ? { initialP: f.initPoolingExponent } : {}) });
  await init();
  const source = await openSource(f.resumeFrom, f.resumeEpoch);
  const { model, settings } = source;
  const { dataset, dataPath } = runData(f, settings);
  const size = f.inputSize ?? defaultTestScale(settings.inputSize);
  const mode: ValidationMode = f.inputCrop;
  checkImageSize(model, size, mode);
  const expdir = f.expdir ?? join(dirname(source.file), `finetune${size}`);
  const data = await openClassificationData(dataset, dataPath, 0, f.valSubset, knownClasses(source));
  if (data.classes.length !== model.options.numClasses) {
    throw new Error(`${source.file} has ${model.options.numClasses} classes, ${dataset} has ${data.classes.length}`);
  }
  const transform = { kind: 'val', mode, size, ...inputNormalization(model.options.backbone) } as const;
  const trainLoader = new DataLoader({ dataset: data.train, transform, workers: f.workers, ...imageLoaderOptions(f) });
  const valLoader = new DataLoader({ dataset: data.val, transform, workers: f.workers, ...imageLoaderOptions(f) });
  const evaluate = async (when: string): Promise<number> => {
    const r = await validate(model, valLoader, 32, `validate (${when})`);
    console.log(`${when}: p = ${(await model.pool.p.item()).toFixed(4)}, val top-1 ${r.top1.toFixed(2)}% top-5 ${r.top5.toFixed(2)}% at ${mode} ${size} (${data.val.length} images)`);
    return r.top1;
  };
  const lock = await lockOutput(expdir, 'finetune-p'); // before anything is written there
  try {
    if (f.initPoolingExponent !== undefined) model.pool.p.assign(Float32Array.of(f.initPoolingExponent));
    const before = f.noValidateFirst ? undefined : await evaluate('before');
    const indices = shuffledImagesPerClass(data.train.labels, f.imagesPerClass, f.seed);
    const result = await finetuneP(model, trainLoader, { ...tuning, indices, progress: 'finetune-p' });
    console.log(`p: ${result.initialP.toFixed(4)} -> ${result.p.toFixed(4)} in ${result.steps} steps on ${indices.length} images`);
    const after = f.noValidate ? undefined : await evaluate('after');
    const settingsOut = { ...definedFlags(f), expdir, source: source.file, dataset, dataPath, inputSize: size, testScale: size, valMode: mode, p: result.p, top1Before: before, top1After: after };
    const file = await writeDerived(expdir, 'finetune-p', settingsOut, model, { source: source.file, p: result.p, history: result.history, ...(source.classes ? { classes: source.classes } : {}) });
    const curve = join(expdir, 'finetune_p.svg');
    const points = (key: 'p' | 'loss'): [number, number][] => [...(key === 'p' ? [[0, result.initialP] as [number, number]] : []), ...result.history.map((r): [number, number] => [r.step, r[key]])];
    await writeFileAtomic(curve, lineChartSvg(`p-finetuning at ${mode} ${size}: p ${result.initialP.toFixed(3)} -> ${result.p.toFixed(3)}`, 'step', [{ name: 'p', points: points('p') }]) + '\n');
    await writeFileAtomic(join(expdir, 'finetune_p_loss.svg'), lineChartSvg('p-finetuning: cross-entropy (mean over 10 steps)', 'step', [{ name: 'loss', points: points('loss') }]) + '\n');
    console.log(`wrote ${file}, ${curve}`);
    reportSkipped('finetune-p', [trainLoader, valLoader]);
  } finally {
    await trainLoader.close();
    await valLoader.close();
    await lock.release();
  }
}
