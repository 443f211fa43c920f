/**
 * `multigrain evaluate`: classification top-1 / top-5 of a trained model on a validation set
 * (square crops or whole images at --input-size). Given an experiment folder, the run's own
 * settings (train_args.json: trunk, width, input size, validation mode, data) are the
 * defaults; flags override them. Retrieval benchmarks (Holidays, Copydays, UKBench) are not
 * implemented yet.
 */
import { parseFlags, helpText, type FlagSpecs } from './args.js';
import { init } from '../engine/index.js';
import { DataLoader, type ValidationMode } from '../data/index.js';
import { MultiGrain, loadMultiGrainWeights, openClassificationData, resolveResume, validate, type TrainOptions } from '../multigrain/index.js';
import type { ResNetDepth } from '../nn/index.js';

export const EVALUATE_FLAGS: FlagSpecs = {
  'resume-from': { type: 'string', help: 'experiment folder or checkpoint (.safetensors or the original .pth)' },
  'resume-epoch': { type: 'int', help: '-1: last checkpoint, N: that epoch', default: -1 },
  dataset: { type: 'string', help: 'validation data (default: the run\'s, else fashion-mnist)', choices: ['fashion-mnist', 'imagefolder'] },
  'data-path': { type: 'string', help: 'dataset root (imagefolder: a folder with val/)' },
  backbone: { type: 'string', help: 'trunk (default: the run\'s, else resnet18)', choices: ['resnet18', 'resnet34', 'resnet50', 'resnet101', 'resnet152'] },
  'base-width': { type: 'int', help: 'trunk width (default: the run\'s, else 8)' },
  'input-size': { type: 'int', help: 'evaluation size (default: the run\'s, else 32)' },
  'val-mode': { type: 'string', help: 'square (resize + center crop) or rect (whole image) (default: the run\'s, else rect for fashion-mnist and square for imagefolder)', choices: ['square', 'rect'] },
  'batch-size': { type: 'int', help: 'images per batch', default: 100 },
  'pooling-exponent': { type: 'number', help: 'override the GeM exponent p of the checkpoint' },
  'val-subset': { type: 'int', help: 'use the first N validation images only (0 = all)', default: 0 },
  workers: { type: 'int', help: 'data loader worker threads', default: 2 },
  help: { type: 'boolean', help: 'show this help' },
};

/** The settings of the run in an experiment folder (its train_args.json), if there is one. */
async function runSettings(from: string): Promise<Partial<TrainOptions>> {
  const { readFile } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const text = await readFile(join(from, 'train_args.json'), 'utf8').catch(() => null);
  if (text === null) return {};
  try {
    return JSON.parse(text) as Partial<TrainOptions>;
  } catch (err) {
    throw new Error(`${join(from, 'train_args.json')}: not valid JSON (${(err as Error).message})`);
  }
}

export async function evaluateCommand(argv: string[]): Promise<void> {
  const f = parseFlags(argv, EVALUATE_FLAGS);
  if (f.help) {
    console.log(helpText('evaluate', 'Top-1 / top-5 classification accuracy of a trained model.', EVALUATE_FLAGS));
    return;
  }
  if (!f.resumeFrom) throw new Error('--resume-from <experiment folder or checkpoint> is required');
  await init();
  const from = String(f.resumeFrom);
  const file = from.endsWith('.pth') ? from : await resolveResume(from, Number(f.resumeEpoch));
  if (!file) throw new Error(`--resume-from ${from}: no checkpoint found there`);
  const run = file === from ? {} : await runSettings(from);
  const dataset = (f.dataset ?? run.dataset ?? 'fashion-mnist') as 'fashion-mnist' | 'imagefolder';
  const dataPath = (f.dataPath ?? (f.dataset === undefined ? run.dataPath : undefined)) as string | undefined;
  const backbone = f.backbone !== undefined ? Number(String(f.backbone).replace('resnet', '')) : (run.backbone ?? 18);
  const mode = (f.valMode ?? run.valMode ?? (dataset === 'fashion-mnist' ? 'rect' : 'square')) as ValidationMode;
  const size = Number(f.inputSize ?? run.inputSize ?? 32);
  const data = await openClassificationData(dataset, dataPath, 1, Number(f.valSubset));
  const model = new MultiGrain({ backbone: backbone as ResNetDepth, numClasses: data.classes.length, baseWidth: Number(f.baseWidth ?? run.baseWidth ?? 8) });
  await loadMultiGrainWeights(model, file);
  if (f.poolingExponent !== undefined) model.pool.p.assign(Float32Array.of(Number(f.poolingExponent)));
  const loader = new DataLoader({ dataset: data.val, transform: { kind: 'val', mode, size }, workers: Number(f.workers) });
  try {
    const r = await validate(model, loader, Number(f.batchSize));
    console.log(`${file}: top-1 ${r.top1.toFixed(2)}%, top-5 ${r.top5.toFixed(2)}%, cross-entropy ${r.cross_entropy.toFixed(4)} on ${data.val.length} images (${mode} ${size})`);
  } finally {
    await loader.close();
  }
}
