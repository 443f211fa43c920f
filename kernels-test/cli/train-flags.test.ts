// The `multigrain train` command line: flags become TrainOptions over the dataset's defaults
// (Fashion-MNIST unless an image folder is named), bad values name the flag, and the help
// shows each dataset-dependent default.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { trainOptionsFromFlags, trainHelp, FASHION_MNIST_DEFAULTS } from '../../src/cli/train-command.js';
import { TRAIN_DEFAULTS } from '../../src/index.js';
import { assertThrowsWith } from '../helpers.js';

const test = suite('train-flags');

test('no flags: the Fashion-MNIST default run', () => {
  const o = trainOptionsFromFlags([])!;
  for (const [key, value] of Object.entries(FASHION_MNIST_DEFAULTS)) assert.equal(o[key as keyof typeof o], value, key);
  // Flags with a fixed default (the original's) carry it whatever the dataset.
  for (const key of ['weightDecay', 'momentum', 'betaInit', 'betaLr', 'seed'] as const) assert.is(o[key], TRAIN_DEFAULTS[key], key);
});

test('flags override the defaults, with the original names and types', () => {
  const o = trainOptionsFromFlags([
    '--base-width', '16', '--epochs', '24', '--lr-drops-epochs', '12,20', '--lr-drops-factors', '0.1,0.1',
    '--backbone', 'resnet50', '--crop-scale', '0.08,1', '--no-validate-first', '--learning-rate', '0.4', '--val-mode', 'square',
    '--warmup-epochs', '1.5',
  ])!;
  assert.is(o.warmupEpochs, 1.5);
  assert.is(o.valMode, 'square');
  assert.is(o.baseWidth, 16);
  assert.is(o.epochs, 24);
  assert.equal(o.lrDropsEpochs, [12, 20]);
  assert.equal(o.lrDropsFactors, [0.1, 0.1]);
  assert.is(o.backbone, 50);
  assert.equal(o.cropScale, [0.08, 1]);
  assert.is(o.validateFirst, false);
  assert.is(o.learningRate, 0.4);
  assert.is(o.batchSize, FASHION_MNIST_DEFAULTS.batchSize, 'unset flags keep the Fashion-MNIST value');
});

test('an image folder starts from the original defaults, not the Fashion-MNIST ones', () => {
  const o = trainOptionsFromFlags(['--dataset', 'imagefolder', '--data-path', '/data/x'])!;
  assert.is(o.dataset, 'imagefolder');
  assert.is(o.dataPath, '/data/x');
  assert.is(o.batchSize, undefined, 'left to TRAIN_DEFAULTS');
  assert.is(o.baseWidth, undefined);
});

test('bad values name the flag', async () => {
  await assertThrowsWith(() => trainOptionsFromFlags(['--epochs', '2.5']), ['--epochs', '2.5', 'integer'], 'non-integer');
  await assertThrowsWith(() => trainOptionsFromFlags(['--learning-rate', 'fast']), ['--learning-rate', 'fast', 'number'], 'not a number');
  await assertThrowsWith(() => trainOptionsFromFlags(['--backbone', 'vgg16']), ['--backbone', 'vgg16', 'resnet50'], 'bad choice');
  await assertThrowsWith(() => trainOptionsFromFlags(['--crop-scale', '0.5']), ['--crop-scale', 'two numbers'], 'one number');
  await assertThrowsWith(() => trainOptionsFromFlags(['--lr-drops-epochs', '3,x']), ['--lr-drops-epochs', 'numbers'], 'bad list');
  await assertThrowsWith(() => trainOptionsFromFlags(['--epoch', '3']), ['--epoch', '--help'], 'unknown flag');
  await assertThrowsWith(() => trainOptionsFromFlags(['--val-mode', 'crop']), ['--val-mode', 'crop', 'rect'], 'bad validation mode');
});

test('--help lists every flag with both dataset defaults where they differ', () => {
  assert.is(trainOptionsFromFlags(['--help']), null);
  const help = trainHelp();
  assert.ok(help.includes(`(default: Fashion-MNIST ${FASHION_MNIST_DEFAULTS.epochs}, imagefolder ${TRAIN_DEFAULTS.epochs})`), 'epochs defaults');
  assert.ok(help.includes('(default: Fashion-MNIST resnet18, imagefolder resnet50)'), 'backbone defaults');
  for (const flag of ['--expdir', '--resume-from', '--gradient-accum', '--repeated-augmentations', '--pooling-exponent', '--beta-lr', '--classif-weight', '--save-every', '--seed', '--workers']) {
    assert.ok(help.includes(flag), flag);
  }
  // Every help text starts in column 40, on the flag's line or, after a long flag, the next.
  const lines = help.split('\n');
  lines.forEach((line, i) => {
    if (!line.startsWith('  --')) return;
    const name = /^ {2}--\S+(?: <[^>]+>)?/.exec(line)![0];
    const text = name.length < 40 ? line : lines[i + 1]!;
    assert.ok(text[39] === ' ' && text[40] !== ' ', `help of ${line.trim().split(' ')[0]} not in column 40`);
  });
});

test.run();
