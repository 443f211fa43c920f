// The after-training commands declare their flags once (an option table): the help lists
// every option with its default, parsing gives typed values with the defaults filled in,
// and finetune-p's defaults are the library's.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseOptions, optionsHelp } from '../../src/cli/args.js';
import { EVALUATE_OPTIONS } from '../../src/cli/evaluate-command.js';
import { FINETUNE_P_OPTIONS } from '../../src/cli/finetune-p-command.js';
import { WHITEN_OPTIONS } from '../../src/cli/whiten-command.js';
import { FINETUNE_P_DEFAULTS } from '../../src/index.js';
import type { OptionTable } from '../../src/util/options.js';

const test = suite('command-options');
const tables: [string, OptionTable][] = [['evaluate', EVALUATE_OPTIONS], ['finetune-p', FINETUNE_P_OPTIONS], ['whiten', WHITEN_OPTIONS]];

test('the help lists every option, its help line and its default', () => {
  for (const [command, table] of tables) {
    const help = optionsHelp(command, 'summary', table);
    for (const spec of Object.values(table)) {
      assert.ok(help.includes(`  --${spec.flag}`), `${command} --${spec.flag}`);
      assert.ok(help.includes(spec.help), `${command} --${spec.flag} help`);
      if (spec.default !== undefined && spec.type !== 'boolean') assert.ok(help.includes(`${spec.help} (default ${spec.default})`), `${command} --${spec.flag} default`);
    }
    assert.ok(help.includes('--help'));
  }
});

test('parsing gives typed values, defaults filled, absent optional flags undefined', () => {
  const f = parseOptions(['--resume-from', 'run', '--batch-size', '7', '--dataset', 'holidays', '--no-holidays-rotate'], EVALUATE_OPTIONS)!;
  assert.is(f.resumeFrom, 'run');
  assert.is(f.batchSize, 7);
  assert.is(f.dataset, 'holidays');
  assert.is(f.noHolidaysRotate, true);
  assert.is(f.resumeEpoch, -1);
  assert.is(f.workers, 2);
  assert.is(f.inputSize, undefined);
  assert.is(parseOptions(['--help'], WHITEN_OPTIONS), null);
  const w = parseOptions(['--input-crop', 'square', '--num-whiten-images', '5'], WHITEN_OPTIONS)!;
  assert.is(w.inputCrop, 'square');
  assert.is(w.numWhitenImages, 5);
  assert.throws(() => parseOptions(['--input-crop', 'wide'], WHITEN_OPTIONS), /--input-crop/);
});

test('finetune-p: the flags default to the library defaults', () => {
  const f = parseOptions([], FINETUNE_P_OPTIONS)!;
  assert.is(f.learningRate, FINETUNE_P_DEFAULTS.learningRate);
  assert.is(f.learningRateDecayPower, FINETUNE_P_DEFAULTS.decayPower);
  assert.is(f.momentum, FINETUNE_P_DEFAULTS.momentum);
  assert.is(f.batchSize, FINETUNE_P_DEFAULTS.batchSize);
  assert.equal([f.learningRate, f.learningRateDecayPower, f.momentum, f.batchSize, f.imagesPerClass], [0.005, 0.9, 0.9, 4, 50]);
});

test.run();
