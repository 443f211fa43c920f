/**
 * `multigrain whiten`: fits PCA whitening on a whitening image set at the test scale and folds
 * it into the model (the original's whiten.py flags). The whitening set is
 * --whiten-list (paths relative to --whiten-path or to the list's folder), or every image under
 * --whiten-path, or, without either, the source run's training images.
 */
import { dirname, join } from 'node:path';
import { parseOptions, optionsHelp, definedFlags } from './args.js';
import { SOURCE_OPTIONS, IMAGE_OPTIONS, imageLoaderOptions, reportSkipped, openSource, runData, defaultTestScale, writeDerived, lockOutput, checkImageSize, applyPoolingExponent, type RunSettings } from './source.js';
import { init } from '../engine/index.js';
import { DataLoader, ImageListDataset, walkImages, type ImageDataset, type ValidationMode } from '../data/index.js';
import { whiten, WHITEN_OPTION_SPECS, openClassificationData, SubsetDataset, inputNormalization } from '../multigrain/index.js';
import type { OptionTable, OptionValues } from '../util/options.js';

/** The options of `multigrain whiten` (declared once: parser, types, defaults, ranges and help). */
export const WHITEN_OPTIONS = {
  expdir: { flag: 'expdir', type: 'string', help: 'output experiment folder (default: <source folder>_whitened)' },
  ...SOURCE_OPTIONS,
  inputSize: { flag: 'input-size', type: 'int', help: 'scale of the whitening images (default: the run\'s size, else 500)', min: 1 },
  ...IMAGE_OPTIONS,
  inputCrop: { ...IMAGE_OPTIONS.inputCrop, default: 'rect' },
  batchSize: { ...WHITEN_OPTION_SPECS.batchSize, default: 8 },
  poolingExponent: { flag: 'pooling-exponent', type: 'number', help: 'overwrite p of the checkpoint first', min: 0, exclusiveMin: true },
  noIncludeLast: { flag: 'no-include-last', type: 'boolean', help: 'leave the bias channel out of the PCA (identity row and column)' },
  whitenList: { flag: 'whiten-list', type: 'string', help: 'list file of whitening image paths (relative to --whiten-path or the list\'s folder)' },
  whitenPath: { flag: 'whiten-path', type: 'string', help: 'folder of whitening images (walked when no list is given)' },
  numWhitenImages: { flag: 'num-whiten-images', type: 'int', help: 'use the first N whitening images (-1: all)', default: -1, min: -1 },
  dataset: { flag: 'dataset', type: 'string', help: 'without a list or path: whiten on this training set (default: the run\'s)', choices: ['fashion-mnist', 'imagefolder'] },
  dataPath: { flag: 'data-path', type: 'string', help: 'dataset root for --dataset' },
  workers: { flag: 'workers', type: 'int', help: 'data loader worker threads', default: 2 },
} as const satisfies OptionTable;

type WhitenFlags = OptionValues<typeof WHITEN_OPTIONS>;

export async function whitenCommand(argv: string[]): Promise<void> {
  const f = parseOptions(argv, WHITEN_OPTIONS) as WhitenFlags | null;
  if (!f) {
    console.log(optionsHelp('whiten', 'Fits PCA whitening of the embedding and folds it into the model (classifier rewritten).', WHITEN_OPTIONS));
    return;
  }
  await init();
  const source = await openSource(f.resumeFrom, f.resumeEpoch);
  const { model, settings } = source;
  const pLine = await applyPoolingExponent(source, f.poolingExponent);
  const size = f.inputSize ?? settings.inputSize ?? defaultTestScale(undefined);
  const mode: ValidationMode = f.inputCrop;
  checkImageSize(model, size, mode);
  const { images, describe } = await whiteningSet(f, settings);
  const expdir = f.expdir ?? `${dirname(source.file)}_whitened`;
  const loader = new DataLoader({ dataset: images, transform: { kind: 'val', mode, size, ...inputNormalization(model.options.backbone) }, workers: f.workers, ...imageLoaderOptions(f) });
  const lock = await lockOutput(expdir, 'whiten'); // before anything is written there
  try {
    console.log(`whitening ${model.embeddingDim + 1}-d embeddings of ${images.length} images (${describe}) at ${mode} ${size}, ${pLine}`);
    const result = await whiten(model, loader, { includeBias: !f.noIncludeLast, batchSize: f.batchSize, progress: 'whiten' });
    const ev = result.fit.eigenvalues;
    console.log(`PCA: eigenvalues ${ev[0]!.toExponential(3)} .. ${ev[ev.length - 1]!.toExponential(3)}` +
      (result.fit.floored ? `, ${result.fit.floored} zero-variance direction(s) floored` : ''));
    // the data the source run was trained on (for evaluate's defaults) and this command's flags
    const inherited = { dataset: settings.dataset, dataPath: settings.dataPath };
    const settingsOut = { ...inherited, ...definedFlags(f), expdir, source: source.file, inputSize: size, testScale: size, valMode: mode, whitenImages: result.images };
    const file = await writeDerived(expdir, 'whiten', settingsOut, model, {
      source: source.file, images: result.images, floored: result.fit.floored, testScale: size, inputCrop: mode,
      ...(source.pFrom && f.poolingExponent === undefined ? { pFrom: source.pFrom } : {}), ...(source.classes ? { classes: source.classes } : {}),
    });
    console.log(`wrote ${file}`);
    reportSkipped('whiten', [loader]);
  } finally {
    await loader.close();
    await lock.release();
  }
}

/** The whitening images the flags select. */
async function whiteningSet(f: WhitenFlags, settings: RunSettings): Promise<{ images: ImageDataset; describe: string }> {
  const count = Math.max(0, f.numWhitenImages);
  if (f.whitenList !== undefined) {
    const list = await ImageListDataset.open(f.whitenList, f.whitenPath !== undefined ? { root: f.whitenPath } : {});
    return { images: new SubsetDataset(list, count), describe: f.whitenList };
  }
  if (f.whitenPath !== undefined) {
    const root = f.whitenPath;
    const files = await walkImages(root);
    if (files.length === 0) throw new Error(`--whiten-path ${root}: no images there`);
    return { images: new SubsetDataset(ImageListDataset.fromNames(root, files.map((p) => (p.startsWith('/') ? p : join(process.cwd(), p)))), count), describe: root };
  }
  const { dataset, dataPath } = runData(f, settings);
  const data = await openClassificationData(dataset, dataPath, count);
  return { images: data.train, describe: `the ${dataset} training set` };
}
