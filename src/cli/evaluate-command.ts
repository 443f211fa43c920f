/**
 * `multigrain evaluate`: classification top-1 / top-5 of a trained model on a validation set
 * (square crops at --input-size). Retrieval benchmarks (Holidays, Copydays, UKBench) are not
 * implemented yet.
 */
import { parseFlags, helpText, type FlagSpecs } from './args.js';
import { init } from '../engine/index.js';
import { DataLoader } from '../data/index.js';
import { MultiGrain, loadMultiGrainWeights, openClassificationData, resolveResume, validate } from '../multigrain/index.js';
import type { ResNetDepth } from '../nn/index.js';

export const EVALUATE_FLAGS: FlagSpecs = {
  'resume-from': { type: 'string', help: 'experiment folder or checkpoint (.safetensors or the original .pth)' },
  'resume-epoch': { type: 'int', help: '-1: last checkpoint, N: that epoch', default: -1 },
  dataset: { type: 'string', help: 'validation data', choices: ['fashion-mnist', 'imagefolder'], default: 'fashion-mnist' },
  'data-path': { type: 'string', help: 'dataset root (imagefolder: a folder with val/)' },
  backbone: { type: 'string', help: 'trunk', choices: ['resnet18', 'resnet34', 'resnet50', 'resnet101', 'resnet152'], default: 'resnet18' },
  'base-width': { type: 'int', help: 'trunk width of the checkpoint', default: 8 },
  'input-size': { type: 'int', help: 'evaluation crop size', default: 32 },
  'batch-size': { type: 'int', help: 'images per batch', default: 100 },
  'pooling-exponent': { type: 'number', help: 'override the GeM exponent p of the checkpoint' },
  'val-subset': { type: 'int', help: 'use the first N validation images only (0 = all)', default: 0 },
  workers: { type: 'int', help: 'data loader worker threads', default: 2 },
  help: { type: 'boolean', help: 'show this help' },
};

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
  const data = await openClassificationData(f.dataset as 'fashion-mnist' | 'imagefolder', f.dataPath as string | undefined, 1, Number(f.valSubset));
  const model = new MultiGrain({
    backbone: Number(String(f.backbone).replace('resnet', '')) as ResNetDepth,
    numClasses: data.classes.length,
    baseWidth: Number(f.baseWidth),
  });
  await loadMultiGrainWeights(model, file);
  if (f.poolingExponent !== undefined) model.pool.p.assign(Float32Array.of(Number(f.poolingExponent)));
  const loader = new DataLoader({ dataset: data.val, transform: { kind: 'val', mode: 'square', size: Number(f.inputSize) }, workers: Number(f.workers) });
  try {
    const r = await validate(model, loader, Number(f.batchSize));
    console.log(`${file}: top-1 ${r.top1.toFixed(2)}%, top-5 ${r.top5.toFixed(2)}%, cross-entropy ${r.cross_entropy.toFixed(4)} on ${data.val.length} images`);
  } finally {
    await loader.close();
  }
}
