// Validation and evaluation classes are matched to the model's by name: val/ folders that are
// a subset of train/'s (so sorted to other positions) keep their labels, a val/ class unknown to
// training is refused naming it, and a trained checkpoint records its class names, which
// `evaluate` uses to label a folder holding only val/.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { init, train, openClassificationData, openValidationData, loadCheckpointFile, type TrainOptions } from '../../src/index.js';
import { assertThrowsWith } from '../helpers.js';
import { scratchDir } from '../scratch-dir.js';
import { makeImage, writeImage } from '../data/helpers.js';

const test = suite('class-matching');

/** Writes `<root>/<split>/<class>/<i>.png` for each class: `perClass` small images of a class-specific colour. */
async function imageFolder(root: string, split: string, classes: string[], perClass = 2): Promise<void> {
  for (const cls of classes) {
    const hue = [...cls].reduce((h, c) => h + c.charCodeAt(0), 0);
    for (let i = 0; i < perClass; i++) {
      await writeImage(join(root, split, cls, `${i}.png`), makeImage(8, 8, (x, y) => [(hue * 7) % 256, (x * 30 + i * 9) % 256, (y * 30 + hue) % 256]));
    }
  }
}

test.before(async () => {
  await init();
});

test('val/ classes are labelled with the training class of the same name, whatever their positions', async () => {
  const root = scratchDir('classes');
  await imageFolder(root, 'train', ['ant', 'bee', 'cat', 'dog']);
  // no 'ant' and no 'cat': sorted alone, bee and dog would be labels 0 and 1
  await imageFolder(root, 'val', ['bee', 'dog'], 3);
  const data = await openClassificationData('imagefolder', root);
  assert.equal(data.classes, ['ant', 'bee', 'cat', 'dog']);
  assert.equal([...data.val.labels], [1, 1, 1, 3, 3, 3]);
  assert.equal(data.val.record(4).label, 3, 'the record the workers get carries the mapped label');
  assert.is((await data.val.get(0)).label, 1);
  assert.equal([...data.train.labels], [0, 0, 1, 1, 2, 2, 3, 3], 'training labels unchanged');
  // against a model's classes (a checkpoint's), in another order than the folders sort to
  const model = { names: ['dog', 'cat', 'bee', 'ant'], of: 'the model in x.safetensors' };
  const v = await openValidationData('imagefolder', root, 0, model);
  assert.equal(v.classes, model.names);
  assert.equal([...v.val.labels], [2, 2, 2, 0, 0, 0]);
  const both = await openClassificationData('imagefolder', root, 0, 0, model);
  assert.equal([...both.train.labels], [3, 3, 2, 2, 1, 1, 0, 0], 'finetune-p tunes on training images labelled as the model');
});

test('a val/ class unknown to training is refused naming it and the known classes (shortened)', async () => {
  const root = scratchDir('extra-class');
  const many = Array.from({ length: 12 }, (_, i) => `class${String(i).padStart(2, '0')}`);
  await imageFolder(root, 'train', many, 1);
  await imageFolder(root, 'val', ['class03', 'zebra'], 1);
  await assertThrowsWith(() => openClassificationData('imagefolder', root),
    [join(root, 'val'), '"zebra"', 'not among the 12 classes of the training set', '"class00"', '(4 more)'], 'extra val class');
  await assertThrowsWith(() => openValidationData('imagefolder', root, 0, { names: ['class03'], of: 'the model in m.safetensors' }),
    ['"zebra"', 'the model in m.safetensors'], 'class unknown to the model');
  // train() refuses before any work (it used to report a NaN cross-entropy and exit 0)
  const o: Partial<TrainOptions> = {
    dataset: 'imagefolder', dataPath: root, expdir: scratchDir('extra-run'), backbone: 18, baseWidth: 2, inputSize: 32, batchSize: 4,
    epochs: 1, workers: 0, progress: false, validateFirst: false,
  };
  await assertThrowsWith(() => train(o, () => undefined), ['"zebra"', 'not among'], 'train with an extra val class');
});

test('a checkpoint records its classes; evaluate labels a val/-only folder by them and refuses unknown classes', async () => {
  const root = scratchDir('eval-data');
  await imageFolder(root, 'train', ['ant', 'bee', 'cat']);
  await imageFolder(root, 'val', ['ant', 'bee', 'cat']);
  const expdir = scratchDir('eval-run');
  await train({
    dataset: 'imagefolder', dataPath: root, expdir, backbone: 18, baseWidth: 2, inputSize: 32, batchSize: 3, epochs: 1,
    epochLenFactor: 1, workers: 0, progress: false, validateFirst: false, learningRate: 0.1, lrScaling: 'linear', lrDropsEpochs: [], lrDropsFactors: [],
  }, () => undefined);
  const meta = (await loadCheckpointFile(join(expdir, 'checkpoint_1.safetensors'))).meta as { classes?: string[] };
  assert.equal(meta.classes, ['ant', 'bee', 'cat']);

  const cli = resolve('dist/node/cli.js');
  const evaluate = (dataPath: string) => spawnSync(process.execPath, [cli, 'evaluate', '--resume-from', expdir, '--dataset', 'imagefolder',
    '--data-path', dataPath, '--batch-size', '4', '--workers', '0'], { encoding: 'utf8', timeout: 60_000 });
  // a folder with only val/, and only two of the three classes
  const onlyVal = scratchDir('eval-val-only');
  await imageFolder(onlyVal, 'val', ['bee', 'cat']);
  const ok = evaluate(onlyVal);
  assert.is(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /top-1 [\d.]+%.* on 4 images/);
  // a class the model does not know
  const extra = scratchDir('eval-extra');
  await imageFolder(extra, 'val', ['bee', 'yak']);
  const refused = evaluate(extra);
  assert.is(refused.status, 1);
  assert.ok(refused.stderr.includes('"yak"') && refused.stderr.includes('the model in'), refused.stderr);
  assert.not.match(refused.stderr, /\n\s+at /, 'no stack trace');
  // an evaluation size no GPU tensor can hold: refused up front (square) or by the resize (rect), naming the flag
  for (const mode of ['square', 'rect']) {
    const huge = spawnSync(process.execPath, [cli, 'evaluate', '--resume-from', expdir, '--data-path', onlyVal, '--input-size', '100000',
      '--val-mode', mode, '--workers', '0'], { encoding: 'utf8', timeout: 60_000 });
    assert.is(huge.status, 1, `${mode}: ${huge.stderr}`);
    assert.ok(huge.stderr.includes('--input-size') && !huge.stderr.includes('RangeError'), `${mode}: ${huge.stderr}`);
  }
});

test.run();
