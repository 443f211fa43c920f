// The `multigrain train` command line: flags become TrainOptions over the dataset's defaults
// (Fashion-MNIST unless an image folder is named), bad values name the flag, and the help
// shows each dataset-dependent default.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { trainOptionsFromFlags, trainHelp, FASHION_MNIST_DEFAULTS } from '../../src/cli/train-command.js';
import { TRAIN_DEFAULTS, TRAIN_OPTIONS } from '../../src/index.js';
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

test('one declaration: every option with a flag is in the help, and TRAIN_DEFAULTS are its defaults', () => {
  const help = trainHelp();
  for (const [key, spec] of Object.entries(TRAIN_OPTIONS)) {
    const flag = (spec as { flag?: string }).flag;
    if (flag !== undefined) assert.ok(help.includes(`  --${flag} `) || help.includes(`  --${flag}\n`), `--${flag} in the help`);
    if ('help' in spec && flag !== undefined) assert.ok(help.includes(spec.help), `help line of ${key}`);
    assert.equal(TRAIN_DEFAULTS[key as keyof typeof TRAIN_DEFAULTS], (spec as { default?: unknown }).default, `default of ${key}`);
  }
  assert.not.ok(help.includes('--progress'), 'library-only options have no flag');
  assert.ok(help.includes('--no-validate-first') && help.includes('--help'));
});

test('each flag yields its typed option', () => {
  const samples: Record<string, [string[], unknown]> = {
    expdir: [['--expdir', 'e'], 'e'], resumeFrom: [['--resume-from', 'r'], 'r'], resumeEpoch: [['--resume-epoch', '3'], 3],
    learningRate: [['--learning-rate', '0.05'], 0.05], weightDecay: [['--weight-decay', '0'], 0], momentum: [['--momentum', '0.5'], 0.5],
    inputSize: [['--input-size', '64'], 64], batchSize: [['--batch-size', '8'], 8], gradientAccum: [['--gradient-accum', '2'], 2],
    repeatedAugmentations: [['--repeated-augmentations', '3'], 3], augmentation: [['--augmentation', 'AA'], 'AA'],
    cropScale: [['--crop-scale', '0.2,0.9'], [0.2, 0.9]], epochs: [['--epochs', '7'], 7], epochLenFactor: [['--epoch-len-factor', '1.5'], 1.5],
    backbone: [['--backbone', 'resnet101'], 101], baseWidth: [['--base-width', '16'], 16], pretrainedBackbone: [['--pretrained-backbone', 'w.pth'], 'w.pth'],
    lrDropsEpochs: [['--lr-drops-epochs', '5,8'], [5, 8]], lrDropsFactors: [['--lr-drops-factors', '0.5,0.2'], [0.5, 0.2]],
    warmupEpochs: [['--warmup-epochs', '0.5'], 0.5], poolingExponent: [['--pooling-exponent', '3'], 3], betaInit: [['--beta-init', '1'], 1],
    betaLr: [['--beta-lr', '2'], 2], classifWeight: [['--classif-weight', '0.5'], 0.5], saveEvery: [['--save-every', '4'], 4],
    validateFirst: [['--no-validate-first'], false], seed: [['--seed', '9'], 9], workers: [['--workers', '0'], 0], gpuAugment: [['--no-gpu-augment'], false],
    dataset: [['--dataset', 'fashion-mnist'], 'fashion-mnist'], dataPath: [['--data-path', '/d'], '/d'], logEvery: [['--log-every', '5'], 5],
    trainSubset: [['--train-subset', '10'], 10], valSubset: [['--val-subset', '11'], 11], valMode: [['--val-mode', 'rect'], 'rect'],
    skipUnreadable: [['--skip-unreadable'], true], forceArgs: [['--force-args'], true],
    lrScaling: [['--lr-scaling', 'linear'], 'linear'], partialAccum: [['--partial-accum', 'step'], 'step'],
    samplingReplicas: [['--sampling-replicas', '4'], 4], globalSampling: [['--global-sampling'], true],
  };
  for (const [key, spec] of Object.entries(TRAIN_OPTIONS)) {
    if (!('flag' in spec)) continue;
    assert.ok(samples[key], `a sample for ${key}`);
    const [argv, value] = samples[key]!;
    assert.equal(trainOptionsFromFlags(argv)![key as keyof typeof TRAIN_DEFAULTS], value, key);
  }
});

test.run();
