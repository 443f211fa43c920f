// The programs after training, chained from the command line as the original's pipeline:
// train -> finetune-p (p at a test scale) -> whiten (PCA folded in) -> evaluate (classification
// and Holidays retrieval). Whitening must leave top-1 / top-5 unchanged; each step reads the
// previous folder's settings; too few whitening images fails cleanly without writing.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { init, train, loadCheckpointFile, hostTensorToFloat32, type TrainOptions } from '../../src/index.js';
import { scratchDir } from '../scratch-dir.js';

const test = suite('after-training');
const CLI = resolve('dist/node/cli.js');

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args, '--workers', '1'], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A Holidays-layout folder: 4 groups of 3 near-duplicate JPEGs (ids GGGG00 = query, GGGG01, GGGG02). */
async function holidaysFolder(root: string): Promise<void> {
  mkdirSync(join(root, 'jpg'), { recursive: true });
  let s = 7;
  const rand = (): number => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  for (let g = 0; g < 4; g++) {
    const w = 48 + 8 * g;
    const h = 40;
    const base = Array.from({ length: w * h * 3 }, () => Math.floor(rand() * 256));
    for (let k = 0; k < 3; k++) {
      const px = Buffer.from(base.map((v) => Math.max(0, Math.min(255, v + Math.floor(rand() * 11) - 5))));
      await sharp(px, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 95 }).toFile(join(root, 'jpg', `${1000 + g}0${k}.jpg`));
    }
  }
}

test('train -> finetune-p -> whiten -> evaluate (classification unchanged by whitening; Holidays mAP)', async () => {
  await init();
  const dir = scratchDir('after');
  const run = join(dir, 'run');
  const tiny: Partial<TrainOptions> = {
    expdir: run, dataset: 'fashion-mnist', backbone: 18, baseWidth: 2, inputSize: 32, batchSize: 12, repeatedAugmentations: 3,
    classifWeight: 0.5, poolingExponent: 3, epochs: 1, epochLenFactor: 1, learningRate: 0.5, lrScaling: 'linear', lrDropsEpochs: [], lrDropsFactors: [],
    trainSubset: 36, valSubset: 12, workers: 1, validateFirst: false, progress: false,
  };
  await train(tiny, () => undefined);

  const ft = cli('finetune-p', '--resume-from', run, '--input-size', '40', '--images-per-class', '2', '--val-subset', '12', '--expdir', join(dir, 'ft'));
  assert.is(ft.status, 0, ft.stderr);
  const tuned = /p: 3\.0000 -> (\d+\.\d+) in 5 steps on 20 images/.exec(ft.stdout);
  assert.ok(tuned, `finetune-p printed: ${ft.stdout}`);
  const ckpt = await loadCheckpointFile(join(dir, 'ft', 'checkpoint_1.safetensors'));
  assert.ok(Math.abs(hostTensorToFloat32(ckpt.groups.model!.get('pool.p')!)[0]! - Number(tuned[1])) < 1e-4, 'the tuned p is saved');
  const meta = ckpt.meta as Record<string, unknown>;
  assert.equal([meta.testScale, meta.inputCrop, meta.pFrom], [40, 'rect', 'fine-tuning'], 'the scale and how p was chosen are saved with it');
  assert.match(readFileSync(join(dir, 'ft', 'finetune_p.svg'), 'utf8'), new RegExp(`p 3\\.000 -&gt; ${Number(tuned[1]).toFixed(3)}`));
  const after = /after: p = [\d.]+, val top-1 ([\d.]+%) top-5 ([\d.]+%) at rect 40/.exec(ft.stdout);
  assert.ok(after, ft.stdout);

  const wh = cli('whiten', '--resume-from', join(dir, 'ft'), '--num-whiten-images', '40', '--expdir', join(dir, 'wh'));
  assert.is(wh.status, 0, wh.stderr);
  assert.match(wh.stdout, /whitening 17-d embeddings of 40 images \(the fashion-mnist training set\) at rect 40/);
  const white = (await loadCheckpointFile(join(dir, 'wh', 'checkpoint_1.safetensors'))).groups.model!;
  assert.equal(white.get('whitening.pca.pca_P')!.shape, [17, 17]);
  assert.equal(white.get('classifier.weight')!.shape, [10, 17]);
  assert.equal(((await loadCheckpointFile(join(dir, 'wh', 'checkpoint_1.safetensors'))).meta as Record<string, unknown>).testScale, 40, 'whiten records its scale');

  // same scale (recorded by finetune-p and whiten), same ranking of classes: same top-1 and top-5
  const ev = cli('evaluate', '--resume-from', join(dir, 'wh'), '--val-subset', '12');
  assert.is(ev.status, 0, ev.stderr);
  assert.ok(ev.stdout.includes(`top-1 ${after[1]}, top-5 ${after[2]}`) && ev.stdout.includes('(rect 40)'), `evaluate printed: ${ev.stdout} (finetune-p: ${after[0]})`);

  const holidays = join(dir, 'holidays');
  await holidaysFolder(holidays);
  const ret = cli('evaluate', '--resume-from', join(dir, 'wh'), '--dataset', 'holidays', '--data-path', holidays, '--input-size', '64');
  assert.is(ret.status, 0, ret.stderr);
  const map = /holidays mAP ([\d.]+)% on 12 images, 4 queries, database 12 \(rect 64\)/.exec(ret.stdout);
  assert.ok(map && Number(map[1]) >= 90, `near duplicates are found first: ${ret.stdout}`);
  // 4 image sizes (one per group), grouped by size: 4 forward passes, and the rate
  assert.match(ret.stdout, /embedded 12 images in 4 forward passes, [\d.]+ img\/s/);
  const summary = JSON.parse(readFileSync(join(dir, 'wh', 'holidays_results.json'), 'utf8'));
  assert.is((100 * summary.mAP).toFixed(2), map[1]);
  assert.is(summary.ap.length, 4);
  // the examples picture: 4 queries (blue) with their 5 best results (green: relevant, red: not)
  const svg = readFileSync(join(dir, 'wh', 'holidays_examples.svg'), 'utf8');
  const count = (color: string): number => svg.split(`fill="${color}"`).length - 1;
  assert.is(count('#1f77b4'), 4);
  assert.is(count('#2ca02c') + count('#d62728'), 20);
  assert.is(svg.split('<image ').length - 1, 24);
  // 8 relevant images in all: every one is among its query's 5 best when mAP = 1 (a relevant one
  // may also be there behind an irrelevant one, so not the converse)
  assert.ok(count('#2ca02c') <= 8);
  if (summary.mAP === 1) assert.is(count('#2ca02c'), 8, 'mAP = 1: all 8 relevant images shown');

  const few = cli('whiten', '--resume-from', join(dir, 'ft'), '--num-whiten-images', '10', '--expdir', join(dir, 'wh2'));
  assert.is(few.status, 1);
  assert.match(few.stderr, /17-d vectors needs more than 17 images, got 10/);
  assert.not.ok(existsSync(join(dir, 'wh2', 'checkpoint_1.safetensors')), 'nothing written');

  const resume = cli('train', '--expdir', join(dir, 'wh'), '--base-width', '2', '--train-subset', '36', '--val-subset', '12');
  assert.is(resume.status, 1);
  assert.match(resume.stderr, /not a training checkpoint \(written by multigrain whiten\)/);
});

test.run();
