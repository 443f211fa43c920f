// `finetune-p --p-grid`: p* by cross-validation on held-out training images (the N after the
// first N of each class). The table agrees with a full forward pass at each p, p* is the best
// top-1 (a tie goes to the p closest to the checkpoint's), p_grid.json / p_grid.svg are written,
// and the checkpoint carries p and the scale: `evaluate` and `embed` given the file alone use
// them and say so; an explicit flag wins. A bad grid stops the command with the flag named.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import {
  init, MultiGrain, DataLoader, openMultiGrain, openClassificationData, imagesPerClassAfter, loadCheckpointFile, hostTensorToFloat32, bestP, tensor, noGrad,
  type PGridPoint, type Shape,
} from '../../src/index.js';
import { writeDerived } from '../../src/cli/source.js';
import { scratchDir } from '../scratch-dir.js';

const test = suite('finetune-p --p-grid');
const CLI = resolve('dist/node/cli.js');

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 180_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('a bad --p-grid is refused before any work, naming the flag', () => {
  for (const [grid, message] of [['1:5:0', /--p-grid: '1:5:0': the step must be positive/], ['2,x', /--p-grid: 'x' is not a number/], ['0,1', /--p-grid: p = 0: GeM needs p > 0/],
    ['5:1:1', /the stop 1 is below the start 5/], ['1:2', /'1:2' is no range/]] as const) {
    const r = cli('finetune-p', '--resume-from', 'no-such-folder', '--p-grid', grid);
    assert.is(r.status, 1, grid);
    assert.match(r.stderr, message);
  }
});

test('cross-validation: table = forward at each p on the held-out images; p* recorded and used by evaluate and embed', async () => {
  await init();
  const dir = scratchDir('p-grid');
  const run = join(dir, 'run');
  const model = new MultiGrain({ backbone: 18, baseWidth: 2, numClasses: 10, poolingExponent: 3, seed: 7 });
  await writeDerived(run, 'train', { dataset: 'fashion-mnist', inputSize: 32 }, model, {});
  model.parameters().forEach((t) => t.dispose());
  const ft = join(dir, 'ft');
  const r = cli('finetune-p', '--resume-from', run, '--p-grid', '1:4:1.5,2', '--input-size', '40', '--images-per-class', '3', '--no-validate-first', '--no-validate', '--expdir', ft, '--workers', '0', '--momentum', '0.5');
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stderr, /--p-grid chooses p without training it: --momentum ignored/);
  assert.match(r.stdout, /p-grid: 4 values of p on 30 held-out training images 4 to 6 of each class/);
  const record = JSON.parse(readFileSync(join(ft, 'p_grid.json'), 'utf8')) as { points: PGridPoint[]; p: number; trainedP: number; images: number; tied: number[] };
  assert.equal(record.points.map((q) => q.p), [1, 2, 2.5, 4]);
  assert.is(record.images, 30);
  assert.is(record.trainedP, 3);
  assert.equal(bestP(record.points, 3).best.p, record.p);
  assert.ok(r.stdout.includes(`p* = ${record.p} by cross-validation`), r.stdout);

  // the same numbers by a whole forward pass per p (no feature reuse) on the same images
  const opened = await openMultiGrain(join(run, 'checkpoint_1.safetensors'));
  const { train } = await openClassificationData('fashion-mnist', undefined, 0, 0);
  const indices = imagesPerClassAfter(train.labels, 3, 3);
  const loader = new DataLoader({ dataset: train, transform: { kind: 'val', mode: 'rect', size: 40 }, workers: 0 });
  opened.model.eval();
  for (const point of record.points) {
    opened.model.pool.p.assign(Float32Array.of(point.p));
    let [hits1, hits5, ce, n] = [0, 0, 0, 0];
    for await (const b of loader.evaluation({ batchSize: 16, indices })) {
      const logits = noGrad(() => opened.model.forward(tensor(b.images, b.shape as Shape)).logits);
      const z = await logits.toArray();
      logits.dispose();
      const C = 10;
      b.labels.forEach((label, i) => {
        const row = Array.from(z.subarray(i * C, (i + 1) * C));
        const above = row.filter((v) => v > row[label]!).length;
        hits1 += above < 1 ? 1 : 0;
        hits5 += above < 5 ? 1 : 0;
        const max = Math.max(...row);
        ce += Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0)) + max - row[label]!;
        n++;
      });
    }
    const [top1, top5] = [(100 * hits1) / n, (100 * hits5) / n];
    assert.ok(Math.abs(top1 - point.top1) < 1e-9 && Math.abs(top5 - point.top5) < 1e-9, `p ${point.p}: forward top-1 ${top1} top-5 ${top5}, grid ${point.top1} ${point.top5}`);
    assert.ok(Math.abs(ce / n - point.crossEntropy) < 1e-4 * Math.max(1, ce / n), `p ${point.p}: CE ${ce / n} vs ${point.crossEntropy}`);
  }
  await loader.close();
  assert.match(readFileSync(join(ft, 'p_grid.svg'), 'utf8'), new RegExp(`p\\* = ${record.p}`));

  // the checkpoint carries p*, the scale and how p was chosen
  const file = join(ft, 'checkpoint_1.safetensors');
  const ckpt = await loadCheckpointFile(file);
  assert.is(hostTensorToFloat32(ckpt.groups.model!.get('pool.p')!)[0], Math.fround(record.p));
  const meta = ckpt.meta as Record<string, unknown>;
  assert.equal([meta.testScale, meta.inputCrop, meta.pFrom], [40, 'rect', 'cross-validation']);

  // evaluate given the file alone: p and scale from the checkpoint, and it says so
  const ev = cli('evaluate', '--resume-from', file, '--val-subset', '10', '--workers', '0');
  assert.is(ev.status, 0, ev.stderr);
  assert.ok(ev.stdout.includes(`p = ${record.p} (pool.p of ${file}, chosen by cross-validation); rect 40 (from the metadata of ${file})`), ev.stdout);
  assert.match(ev.stdout, /on 10 images \(rect 40\)/);
  const flag = cli('evaluate', '--resume-from', file, '--val-subset', '10', '--pooling-exponent', '1.25', '--input-size', '36', '--workers', '0');
  assert.is(flag.status, 0, flag.stderr);
  assert.ok(flag.stdout.includes('p = 1.25 (--pooling-exponent); rect 36 (--input-size; crop from the metadata of'), flag.stdout);

  // embed: the same defaults, recorded in embed_args.json
  const images = join(dir, 'images');
  mkdirSync(images);
  for (let k = 0; k < 2; k++) await sharp({ create: { width: 40, height: 34 + 2 * k, channels: 3, background: { r: 40 * k, g: 90, b: 200 } } }).png().toFile(join(images, `${k}.png`));
  const em = cli('embed', '--checkpoint', file, '--data-path', images, '--output', join(dir, 'emb'), '--workers', '0');
  assert.is(em.status, 0, em.stderr);
  assert.ok(em.stdout.includes(`embed: p = ${record.p} (pool.p of ${file}, chosen by cross-validation); size 40 (from the metadata of ${file})`), em.stdout);
  const args = JSON.parse(readFileSync(join(dir, 'emb', 'embed_args.json'), 'utf8')) as { inputSize: number; poolingExponent: number };
  assert.equal([args.inputSize, args.poolingExponent], [40, record.p]);
  for (const m of [opened.model]) m.parameters().forEach((t) => t.dispose());
});

test.run();
