/**
 * `multigrain finetune-p`: adapts the GeM exponent of a trained model to a larger test scale
 * (the original's finetune_p.py flags and defaults). Reads the source run's
 * data settings, tunes p on the first --images-per-class training images of each class at
 * --input-size, validates before and after, and writes a new experiment folder. With
 * `--p-grid`, p* is chosen by cross-validation instead (the alternative the original README
 * names): the top-1 of held-out training images at each p of the grid. Either way the
 * checkpoint records p and the scale, which `evaluate` and `embed` then use.
 */
import { dirname, join } from 'node:path';
import { parseOptions, optionsHelp, definedFlags } from './args.js';
import { SOURCE_OPTIONS, IMAGE_OPTIONS, imageLoaderOptions, reportSkipped, openSource, runData, defaultTestScale, writeDerived, lockOutput, knownClasses, checkImageSize } from './source.js';
import { init } from '../engine/index.js';
import { DataLoader, type ValidationMode } from '../data/index.js';
import {
  finetuneP, FINETUNE_P_OPTION_SPECS, validateFinetunePOptions, shuffledImagesPerClass, imagesPerClassAfter, openClassificationData, validate, lineChartSvg,
  parsePGrid, crossValidateP, bestP, pGridTable, inputNormalization, type MultiGrain, type PGridPoint, type ClassificationData,
} from '../multigrain/index.js';
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
  imagesPerClass: { flag: 'images-per-class', type: 'int', help: 'tune on the first N training images of each class (--p-grid: score on the next N)', default: 50, min: 1 },
  pGrid: { flag: 'p-grid', type: 'string', help: 'cross-validate p instead of fine-tuning it: top-1 at each p of the grid (values and ranges start:stop:step, e.g. 1:5:0.5 or 1,1.5,2,3) on held-out training images (the N after the first --images-per-class N of each class); p* = best top-1, a tie goes to the p closest to the checkpoint\'s' },
  seed: { flag: 'seed', type: 'int', help: 'seed of the order the tuning images are visited in (shuffled, as the original)', default: 0, min: 0 },
  initPoolingExponent: L.initialP,
  noValidateFirst: { flag: 'no-validate-first', type: 'boolean', help: 'skip the validation before tuning' },
  noValidate: { flag: 'no-validate', type: 'boolean', help: 'skip the validation after tuning' },
  valSubset: { flag: 'val-subset', type: 'int', help: 'validate on the first N images only (0 = all)', default: 0, min: 0 },
  dataset: { flag: 'dataset', type: 'string', help: 'data (default: the run\'s, else fashion-mnist)', choices: ['fashion-mnist', 'imagefolder'] },
  dataPath: { flag: 'data-path', type: 'string', help: 'dataset root (imagefolder: a folder with train/ and val/)' },
  workers: { flag: 'workers', type: 'int', help: 'data loader worker threads', default: 2 },
} as const satisfies OptionTable;

/** The flags of the fine-tuning that cross-validation does not use. */
const GRID_IGNORES = ['learning-rate', 'learning-rate-decay-power', 'momentum', 'seed'];

export async function finetunePCommand(argv: string[]): Promise<void> {
  const f = parseOptions(argv, FINETUNE_P_OPTIONS) as OptionValues<typeof FINETUNE_P_OPTIONS> | null;
  if (!f) {
    console.log(optionsHelp('finetune-p', 'Learns the GeM exponent p at a test scale (the rest of the network frozen).', FINETUNE_P_OPTIONS));
    return;
  }
  const tuning = { learningRate: f.learningRate, decayPower: f.learningRateDecayPower, momentum: f.momentum, batchSize: f.batchSize };
  // the parser checked each flag; finetuneP's own check and the grid's run here too, before any work
  validateFinetunePOptions({ ...tuning, ...(f.initPoolingExponent !== undefined ? { initialP: f.initPoolingExponent } : {}) });
  const grid = f.pGrid !== undefined ? parsePGrid(f.pGrid) : undefined;
  if (grid) {
    const ignored = GRID_IGNORES.filter((flag) => argv.some((a) => a === `--${flag}` || a.startsWith(`--${flag}=`)));
    if (ignored.length) console.warn(`finetune-p: --p-grid chooses p without training it: ${ignored.map((x) => `--${x}`).join(', ')} ignored`);
  }
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
    const trainedP = (await model.pool.p.item()) as number;
    if (f.initPoolingExponent !== undefined) model.pool.p.assign(Float32Array.of(f.initPoolingExponent));
    const before = f.noValidateFirst ? undefined : await evaluate('before');
    const settingsOut = { ...definedFlags(f), expdir, source: source.file, dataset, dataPath, inputSize: size, testScale: size, valMode: mode };
    // what evaluate and embed read from the checkpoint itself (a file given alone has no folder settings)
    const scale = { testScale: size, inputCrop: mode, ...(source.classes ? { classes: source.classes } : {}) };
    if (grid) {
      const cv = await crossValidate(model, trainLoader, data, grid, f.imagesPerClass, f.batchSize, trainedP, expdir, `${mode} ${size}`);
      model.pool.p.assign(Float32Array.of(cv.p));
      const after = f.noValidate ? undefined : await evaluate('after');
      const file = await writeDerived(expdir, 'finetune-p', { ...settingsOut, p: cv.p, pFrom: 'cross-validation', top1Before: before, top1After: after }, model,
        { source: source.file, p: cv.p, pFrom: 'cross-validation', pGrid: cv.record, ...scale });
      console.log(`wrote ${file}, ${cv.files.join(', ')}`);
    } else {
      const indices = shuffledImagesPerClass(data.train.labels, f.imagesPerClass, f.seed);
      const result = await finetuneP(model, trainLoader, { ...tuning, indices, progress: 'finetune-p' });
      console.log(`p: ${result.initialP.toFixed(4)} -> ${result.p.toFixed(4)} in ${result.steps} steps on ${indices.length} images`);
      const after = f.noValidate ? undefined : await evaluate('after');
      const file = await writeDerived(expdir, 'finetune-p', { ...settingsOut, p: result.p, pFrom: 'fine-tuning', top1Before: before, top1After: after }, model,
        { source: source.file, p: result.p, pFrom: 'fine-tuning', history: result.history, ...scale });
      const curve = join(expdir, 'finetune_p.svg');
      const points = (key: 'p' | 'loss'): [number, number][] => [...(key === 'p' ? [[0, result.initialP] as [number, number]] : []), ...result.history.map((r): [number, number] => [r.step, r[key]])];
      await writeFileAtomic(curve, lineChartSvg(`p-finetuning at ${mode} ${size}: p ${result.initialP.toFixed(3)} -> ${result.p.toFixed(3)}`, 'step', [{ name: 'p', points: points('p') }]) + '\n');
      await writeFileAtomic(join(expdir, 'finetune_p_loss.svg'), lineChartSvg('p-finetuning: cross-entropy (mean over 10 steps)', 'step', [{ name: 'loss', points: points('loss') }]) + '\n');
      console.log(`wrote ${file}, ${curve}`);
    }
    reportSkipped('finetune-p', [trainLoader, valLoader]);
  } finally {
    await trainLoader.close();
    await valLoader.close();
    await lock.release();
  }
}

/** What `finetune-p --p-grid` records in p_grid.json and in the checkpoint's metadata. */
interface PGridRecord {
  /** The held-out split: which training images were scored. */
  heldOut: string;
  images: number;
  scale: string;
  /** p of the checkpoint before the grid (ties go to the p closest to it). */
  trainedP: number;
  p: number;
  tied: number[];
  points: PGridPoint[];
}

/**
 * The cross-validation of p: scores the held-out training images (the `perClass` after the
 * first `perClass` of each class, the ones p-finetuning would tune on) at each p, prints the
 * table, writes p_grid.json and p_grid.svg in `expdir`, and returns p*.
 */
async function crossValidate(
  model: MultiGrain, loader: DataLoader, data: ClassificationData, grid: number[], perClass: number, batchSize: number, trainedP: number, expdir: string, scale: string,
): Promise<{ p: number; record: PGridRecord; files: string[] }> {
  const indices = imagesPerClassAfter(data.train.labels, perClass, perClass);
  if (indices.length === 0) throw new Error(`--p-grid: no held-out images: no class has more than --images-per-class ${perClass} training images`);
  const heldOut = `training images ${perClass + 1} to ${2 * perClass} of each class (after the ${perClass} that p-finetuning tunes on)`;
  console.log(`p-grid: ${grid.length} values of p on ${indices.length} held-out ${heldOut} at ${scale}`);
  const points = await crossValidateP(model, loader, { grid, batchSize, indices, progress: 'p-grid' });
  const { best, tied } = bestP(points, trainedP);
  console.log(pGridTable(points, best.p));
  const tie = tied.length > 1 ? ` (top-1 tied at ${tied.join(', ')}: the closest to the checkpoint's p ${trainedP.toFixed(4)})` : '';
  console.log(`p* = ${best.p} by cross-validation: held-out top-1 ${best.top1.toFixed(2)}%${tie}`);
  const record: PGridRecord = { heldOut, images: indices.length, scale, trainedP, p: best.p, tied, points };
  const json = join(expdir, 'p_grid.json');
  await writeFileAtomic(json, JSON.stringify(record, null, 1) + '\n');
  const svg = join(expdir, 'p_grid.svg');
  const series = (key: 'top1' | 'top5') => ({ name: key === 'top1' ? 'top-1 %' : 'top-5 %', points: points.map((r): [number, number] => [r.p, r[key]]) });
  await writeFileAtomic(svg, lineChartSvg(`held-out accuracy at ${scale}: p* = ${best.p}`, 'p', [series('top1'), series('top5')]) + '\n');
  return { p: best.p, record, files: [json, svg] };
}
