// Every number flag declares its allowed range once (its option table): the CLI parser and the
// library's validation refuse the same bad values, each with a message naming the flag, the
// value and the range. finetune-p refuses a bad flag before it reads a model or any data.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { parseOptions, optionsHelp } from '../../src/cli/args.js';
import { trainOptionsFromFlags, trainHelp } from '../../src/cli/train-command.js';
import { FINETUNE_P_OPTIONS, finetunePCommand } from '../../src/cli/finetune-p-command.js';
import { WHITEN_OPTIONS } from '../../src/cli/whiten-command.js';
import { EVALUATE_OPTIONS } from '../../src/cli/evaluate-command.js';
import {
  TRAIN_DEFAULTS, TRAIN_OPTIONS, validateTrainOptions, validateFinetunePOptions, whiten, type TrainOptions, type MultiGrain, type DataLoader,
} from '../../src/index.js';
import { rangeText, type OptionSpec, type OptionTable } from '../../src/util/options.js';
import { assertThrowsWith } from '../helpers.js';

const test = suite('flag-ranges');

/** The option key and spec of a flag in a table. */
function byFlag(table: OptionTable, flag: string): [string, OptionSpec] {
  const entry = Object.entries(table).find(([, s]) => s.flag === flag);
  if (!entry) throw new Error(`no --${flag} in the table`);
  return entry;
}

// [flag, bad value as typed]: the probes first, then the rest of the declared ranges.
const TRAIN_BAD: [string, string][] = [
  ['learning-rate', '-0.1'], ['learning-rate', '0'], ['momentum', '5'], ['momentum', '1'], ['momentum', '-0.1'],
  ['save-every', '-1'], ['log-every', '0'], ['train-subset', '-1'], ['val-subset', '-1'], ['base-width', '0'],
  ['pooling-exponent', '0'], ['pooling-exponent', '-3'], ['epochs', '-1'], ['weight-decay', '-0.0001'], ['batch-size', '0'],
  ['input-size', '0'], ['input-size', '16'], ['beta-lr', '-1'], ['beta-init', '-0.5'], ['classif-weight', '1.5'], ['classif-weight', '-0.1'],
  ['warmup-epochs', '-1'], ['epoch-len-factor', '0'], ['gradient-accum', '0'], ['repeated-augmentations', '0'],
  ['crop-scale', '0,1'], ['crop-scale', '0.5,1.5'], ['crop-scale', '0.8,0.2'], ['resume-epoch', '-2'], ['lr-drops-epochs', '-1,5'],
  ['lr-drops-factors', '0.1,0'],
];

/** A flag's text value as the library's option value. */
function libraryValue(spec: OptionSpec, text: string): unknown {
  if (spec.type === 'numbers') return text.split(',').map(Number);
  return Number(text);
}

test('train: each bad value is refused by the parser, naming the flag, the value and the range', async () => {
  for (const [flag, value] of TRAIN_BAD) {
    const [, spec] = byFlag(TRAIN_OPTIONS, flag);
    const range = flag === 'crop-scale' && value === '0.8,0.2' ? '0 < min <= max <= 1' : rangeText(spec); // in range, out of order
    await assertThrowsWith(() => trainOptionsFromFlags([`--${flag}=${value}`]), [`--${flag}`, `got ${value}`, range], `CLI --${flag} ${value}`);
  }
});

test('train: validateTrainOptions refuses the same values, with the same message', async () => {
  for (const [flag, value] of TRAIN_BAD) {
    const [key, spec] = byFlag(TRAIN_OPTIONS, flag);
    const o = { ...TRAIN_DEFAULTS, expdir: 'x', [key]: libraryValue(spec, value) } as TrainOptions;
    let cliMessage = '';
    try {
      trainOptionsFromFlags([`--${flag}=${value}`]);
    } catch (err) {
      cliMessage = (err as Error).message;
    }
    await assertThrowsWith(() => validateTrainOptions(o), [`--${flag}`, `got ${value}`], `library ${key} = ${value}`);
    let libMessage = '';
    try {
      validateTrainOptions(o);
    } catch (err) {
      libMessage = (err as Error).message;
    }
    assert.is(libMessage, cliMessage, `--${flag} ${value}: one message`);
  }
  // values only the library can be given: not finite, not an integer
  for (const [key, value] of [['learningRate', NaN], ['poolingExponent', Infinity], ['batchSize', 2.5], ['epochs', -Infinity]] as const) {
    const flag = (TRAIN_OPTIONS[key] as OptionSpec).flag!;
    await assertThrowsWith(() => validateTrainOptions({ ...TRAIN_DEFAULTS, expdir: 'x', [key]: value } as TrainOptions), [`--${flag}`, `got ${value}`], `library ${key} = ${value}`);
  }
});

test('train: --epochs -1 names --epochs, not --warmup-epochs', async () => {
  let message = '';
  try {
    trainOptionsFromFlags(['--epochs=-1']);
  } catch (err) {
    message = (err as Error).message;
  }
  assert.match(message, /^--epochs must be an integer >= 0, got -1$/);
  let lib = '';
  try {
    validateTrainOptions({ ...TRAIN_DEFAULTS, expdir: 'x', epochs: -1 });
  } catch (err) {
    lib = (err as Error).message;
  }
  assert.is(lib, message);
});

test('train: the edges of each range are accepted', () => {
  const good: [string, string][] = [
    ['momentum', '0'], ['weight-decay', '0'], ['train-subset', '0'], ['val-subset', '0'], ['epochs', '0'], ['beta-lr', '0'],
    ['classif-weight', '1'], ['crop-scale', '1,1'], ['crop-scale', '0.01,0.5'], ['input-size', '32'], ['save-every', '0'], ['resume-epoch', '-1'],
  ];
  for (const [flag, value] of good) {
    const [key, spec] = byFlag(TRAIN_OPTIONS, flag);
    const o = trainOptionsFromFlags([`--${flag}=${value}`])!;
    assert.equal(o[key as keyof TrainOptions], libraryValue(spec, value), `--${flag} ${value}`);
    validateTrainOptions({ ...TRAIN_DEFAULTS, expdir: 'x', [key]: libraryValue(spec, value) } as TrainOptions);
  }
  validateTrainOptions({ ...TRAIN_DEFAULTS, expdir: 'x', classifWeight: 0, repeatedAugmentations: 3 });
});

const AFTER_BAD: [string, OptionTable, string, string][] = [
  ['finetune-p', FINETUNE_P_OPTIONS, 'batch-size', '0'], ['finetune-p', FINETUNE_P_OPTIONS, 'images-per-class', '0'],
  ['finetune-p', FINETUNE_P_OPTIONS, 'learning-rate', '-0.005'], ['finetune-p', FINETUNE_P_OPTIONS, 'momentum', '1'],
  ['finetune-p', FINETUNE_P_OPTIONS, 'learning-rate-decay-power', '-1'], ['finetune-p', FINETUNE_P_OPTIONS, 'init-pooling-exponent', '0'],
  ['finetune-p', FINETUNE_P_OPTIONS, 'val-subset', '-1'], ['finetune-p', FINETUNE_P_OPTIONS, 'input-size', '0'],
  ['finetune-p', FINETUNE_P_OPTIONS, 'resume-epoch', '-2'],
  ['whiten', WHITEN_OPTIONS, 'batch-size', '0'], ['whiten', WHITEN_OPTIONS, 'pooling-exponent', '0'], ['whiten', WHITEN_OPTIONS, 'num-whiten-images', '-2'],
  ['whiten', WHITEN_OPTIONS, 'input-size', '0'],
  ['evaluate', EVALUATE_OPTIONS, 'batch-size', '0'], ['evaluate', EVALUATE_OPTIONS, 'pooling-exponent', '-1'], ['evaluate', EVALUATE_OPTIONS, 'val-subset', '-1'],
  ['evaluate', EVALUATE_OPTIONS, 'num-distractors', '-2'], ['evaluate', EVALUATE_OPTIONS, 'examples', '-1'], ['evaluate', EVALUATE_OPTIONS, 'input-size', '0'],
];

test('finetune-p, whiten, evaluate: each bad number flag is refused by the parser, naming it', async () => {
  for (const [command, table, flag, value] of AFTER_BAD) {
    const [, spec] = byFlag(table, flag);
    await assertThrowsWith(() => parseOptions([`--${flag}=${value}`], table), [`--${flag}`, `got ${value}`, rangeText(spec)], `${command} --${flag} ${value}`);
  }
});

test('finetuneP and whiten refuse the same values in the library', async () => {
  for (const [key, value, flag] of [
    ['batchSize', 0, 'batch-size'], ['learningRate', -0.005, 'learning-rate'], ['momentum', 1, 'momentum'],
    ['decayPower', -1, 'learning-rate-decay-power'], ['initialP', 0, 'init-pooling-exponent'], ['logEvery', -1, 'logEvery'],
  ] as const) {
    await assertThrowsWith(() => validateFinetunePOptions({ [key]: value }), [flag, `got ${value}`], `finetuneP ${key} = ${value}`);
  }
  // whiten checks its options before it touches the model or the loader
  await assertThrowsWith(() => whiten({} as MultiGrain, {} as DataLoader, { batchSize: 0 }), ['--batch-size', 'got 0', '>= 1'], 'whiten batchSize 0');
});

test('finetune-p: a bad flag is refused before the model or any data is read', async () => {
  for (const [flag, value] of [['batch-size', '0'], ['images-per-class', '0'], ['learning-rate', '0']]) {
    await assertThrowsWith(
      () => finetunePCommand(['--resume-from', '/nonexistent/run', '--data-path', '/nonexistent/data', '--dataset', 'imagefolder', `--${flag}=${value}`]),
      [`--${flag}`, `got ${value}`], `finetune-p --${flag} ${value}`,
    );
  }
  // the command line: one line naming the flag, exit status 1
  const r = spawnSync(process.execPath, [resolve('dist/node/cli.js'), 'finetune-p', '--resume-from', '/nonexistent/run', '--images-per-class', '0'], { encoding: 'utf8', timeout: 60_000 });
  assert.is(r.status, 1, r.stderr);
  assert.is(r.stderr.trim(), 'multigrain finetune-p: --images-per-class must be an integer >= 1, got 0');
});

test('--help shows each declared range after the default', () => {
  const help = trainHelp();
  assert.ok(help.includes('SGD momentum (default 0.9), range [0, 1)'), 'momentum');
  assert.ok(help.includes('(default: Fashion-MNIST 0.15, imagefolder 0.2), range > 0'), 'learning rate');
  assert.ok(help.includes('range [0, 1]') && help.includes('(default 10), range >= 0') && help.includes('(default: Fashion-MNIST 25, imagefolder 20), range >= 1'), 'classif-weight, save-every, log-every');
  assert.ok(optionsHelp('finetune-p', '', FINETUNE_P_OPTIONS).includes('tune on the first N training images of each class (--p-grid: score on the next N) (default 50), range >= 1'));
  assert.not.ok(/--seed .*range/.test(help), 'no range, no range text');
});

test.run();
