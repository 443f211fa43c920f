/**
 * `multigrain whiten`: fits PCA whitening on a whitening image set at the test scale and folds
 * it into the model (spec section 5; the original's whiten.py flags). The whitening set is
 * --whiten-list (paths relative to --whiten-path or to the list's folder), or every image under
 * --whiten-path, or, without either, the source run's training images.
 */
import { dirname, join } from 'node:path';
import { parseFlags, helpText, definedFlags, type FlagSpecs } from './args.js';
import { SOURCE_FLAGS, openSource, runData, defaultTestScale, writeDerived, type RunSettings } from './source.js';
import { init } from '../engine/index.js';
import { DataLoader, ImageListDataset, walkImages, type ImageDataset, type ValidationMode } from '../data/index.js';
import { whiten, openClassificationData, SubsetDataset } from '../multigrain/index.js';

export const WHITEN_FLAGS: FlagSpecs = {
  expdir: { type: 'string', help: 'output experiment folder (default: <source folder>_whitened)' },
  ...SOURCE_FLAGS,
  'input-size': { type: 'int', help: 'scale of the whitening images (default: the run\'s size, else 500)' },
  'input-crop': { type: 'string', help: 'rect: longest side = size, no crop; square: resize + center crop', choices: ['rect', 'square'], default: 'rect' },
  'batch-size': { type: 'int', help: 'images per forward pass (rect mode also ends a batch at a size change)', default: 8 },
  'pooling-exponent': { type: 'number', help: 'overwrite p of the checkpoint first' },
  'no-include-last': { type: 'boolean', help: 'leave the bias channel out of the PCA (identity row and column)' },
  'whiten-list': { type: 'string', help: 'list file of whitening image paths (relative to --whiten-path or the list\'s folder)' },
  'whiten-path': { type: 'string', help: 'folder of whitening images (walked when no list is given)' },
  'num-whiten-images': { type: 'int', help: 'use the first N whitening images (-1: all)', default: -1 },
  dataset: { type: 'string', help: 'without a list or path: whiten on this training set (default: the run\'s)', choices: ['fashion-mnist', 'imagefolder'] },
  'data-path': { type: 'string', help: 'dataset root for --dataset' },
  workers: { type: 'int', help: 'data loader worker threads', default: 2 },
  help: { type: 'boolean', help: 'show this help' },
};

export async function whitenCommand(argv: string[]): Promise<void> {
  const f = parseFlags(argv, WHITEN_FLAGS);
  if (f.help) {
    console.log(helpText('whiten', 'Fits PCA whitening of the embedding and folds it into the model (classifier rewritten).', WHITEN_FLAGS));
    return;
  }
  await init();
  const source = await openSource(f.resumeFrom as string | undefined, Number(f.resumeEpoch));
  const { model, settings } = source;
  if (f.poolingExponent !== undefined) model.pool.p.assign(Float32Array.of(Number(f.poolingExponent)));
  const size = Number(f.inputSize ?? settings.inputSize ?? defaultTestScale(undefined));
  const mode = f.inputCrop as ValidationMode;
  const { images, describe } = await whiteningSet(f, settings);
  const expdir = String(f.expdir ?? `${dirname(source.file)}_whitened`);
  const loader = new DataLoader({ dataset: images, transform: { kind: 'val', mode, size }, workers: Number(f.workers) });
  try {
    console.log(`whitening ${model.embeddingDim + 1}-d embeddings of ${images.length} images (${describe}) at ${mode} ${size}`);
    const result = await whiten(model, loader, { includeBias: !f.noIncludeLast, batchSize: Number(f.batchSize), progress: 'whiten' });
    const ev = result.fit.eigenvalues;
    console.log(`PCA: eigenvalues ${ev[0]!.toExponential(3)} .. ${ev[ev.length - 1]!.toExponential(3)}` +
      (result.fit.floored ? `, ${result.fit.floored} zero-variance direction(s) floored` : ''));
    // the data the source run was trained on (for evaluate's defaults) and this command's flags
    const inherited = { dataset: settings.dataset, dataPath: settings.dataPath };
    const settingsOut = { ...inherited, ...definedFlags(f), expdir, source: source.file, inputSize: size, testScale: size, valMode: mode, whitenImages: result.images };
    const file = await writeDerived(expdir, 'whiten', settingsOut, model, { source: source.file, images: result.images, floored: result.fit.floored });
    console.log(`wrote ${file}`);
  } finally {
    await loader.close();
  }
}

/** The whitening images the flags select. */
async function whiteningSet(f: Record<string, unknown>, settings: RunSettings): Promise<{ images: ImageDataset; describe: string }> {
  const count = Math.max(0, Number(f.numWhitenImages));
  if (f.whitenList !== undefined) {
    const list = await ImageListDataset.open(String(f.whitenList), f.whitenPath !== undefined ? { root: String(f.whitenPath) } : {});
    return { images: new SubsetDataset(list, count), describe: String(f.whitenList) };
  }
  if (f.whitenPath !== undefined) {
    const root = String(f.whitenPath);
    const files = await walkImages(root);
    if (files.length === 0) throw new Error(`--whiten-path ${root}: no images there`);
    return { images: new SubsetDataset(ImageListDataset.fromNames(root, files.map((p) => (p.startsWith('/') ? p : join(process.cwd(), p)))), count), describe: root };
  }
  const { dataset, dataPath } = runData(f, settings);
  const data = await openClassificationData(dataset, dataPath, count);
  return { images: data.train, describe: `the ${dataset} training set` };
}
