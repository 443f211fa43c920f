// `evaluate` follows the original's defaults: a .pth evaluates at 500 px rect (its evaluate.py
// defaults), Copydays scores the strong subset with the root's distractors unless told
// otherwise and reports each family and level, --input-crop is the crop flag (--val-mode a
// deprecated alias), and --skip-unreadable lets a run over a damaged collection finish.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { init, MultiGrain } from '../../src/index.js';
import { evaluationScale, writeDerived } from '../../src/cli/source.js';
import { scratchDir } from '../scratch-dir.js';

const test = suite('evaluate protocol');
const CLI = resolve('dist/node/cli.js');

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args, '--workers', '0'], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('evaluationScale: a .pth at 500 rect (the original\'s evaluate.py); recorded settings and flags first', () => {
  const pth = { file: 'models/joint_3B_1.0.pth', settings: {} };
  assert.equal(evaluationScale(pth, {}, 'classification', 'imagefolder'), { size: 500, crop: 'rect' });
  assert.equal(evaluationScale(pth, {}, 'retrieval'), { size: 500, crop: 'rect' });
  assert.equal(evaluationScale({ file: 'resnet50.PTH', settings: {} }, {}, 'classification', 'imagefolder'), { size: 500, crop: 'rect' });
  assert.equal(evaluationScale(pth, { inputSize: 224, inputCrop: 'square' }, 'classification', 'imagefolder'), { size: 224, crop: 'square' });
  // our own checkpoints: the run's settings, else the former defaults (32; square for an image folder)
  const ours = { file: 'run/checkpoint_3.safetensors', settings: {} };
  assert.equal(evaluationScale(ours, {}, 'classification', 'imagefolder'), { size: 32, crop: 'square' });
  assert.equal(evaluationScale(ours, {}, 'classification', 'fashion-mnist'), { size: 32, crop: 'rect' });
  const run = { file: 'run/checkpoint_3.safetensors', settings: { inputSize: 224, valMode: 'square' as const } };
  assert.equal(evaluationScale(run, {}, 'classification', 'imagefolder'), { size: 224, crop: 'square' });
  assert.equal(evaluationScale(run, {}, 'retrieval'), { size: 500, crop: 'rect' });
  assert.equal(evaluationScale({ ...run, settings: { ...run.settings, testScale: 448 } }, { inputCrop: 'square' }, 'retrieval'), { size: 448, crop: 'square' });
});

test('evaluate --dataset copydays: strong + distractors by default, per family and level with --copydays-subset all, --skip-unreadable', async () => {
  await init();
  const dir = scratchDir('evaluate-copydays');
  const model = new MultiGrain({ backbone: 18, baseWidth: 2, numClasses: 3, poolingExponent: 3, seed: 1 });
  await writeDerived(join(dir, 'model'), 'whiten', { inputSize: 32 }, model, {});
  model.parameters().forEach((t) => t.dispose());
  const root = join(dir, 'copydays');
  const files = ['200000.jpg', '200100.jpg', 'crops/10/200001.jpg', 'crops/50/200101.jpg', 'jpegqual/5/200100.jpg', 'strong/200001.jpg',
    'strong/200101.jpg', 'distractors/a.jpg', 'distractors/b.jpg'];
  for (const [k, f] of files.entries()) {
    mkdirSync(join(root, f, '..'), { recursive: true });
    await sharp({ create: { width: 24 + 2 * k, height: 24, channels: 3, background: { r: 20 * k, g: 200 - 15 * k, b: 90 } } }).jpeg().toFile(join(root, f));
  }
  writeFileSync(join(root, 'distractors/broken.jpg'), 'not a jpeg');
  const common = ['evaluate', '--resume-from', join(dir, 'model'), '--dataset', 'copydays', '--data-path', root, '--input-size', '64', '--examples', '0'];

  const strict = cli(...common);
  assert.is(strict.status, 1, strict.stdout);
  assert.ok(/broken\.jpg/.test(strict.stderr), strict.stderr);

  const strong = cli(...common, '--skip-unreadable', '--val-mode', 'rect');
  assert.is(strong.status, 0, strong.stderr);
  assert.match(strong.stderr, /--val-mode is deprecated, use --input-crop/);
  assert.match(strong.stdout, /copydays mAP [\d.]+% on 7 images, strong subset, 3 distractors, 2 queries, database 5 \(rect 64\)/);
  assert.match(strong.stdout, /\n {2}strong: mAP [\d.]+% \(2 queries\)/);
  assert.match(strong.stderr, /skipped 1 unreadable image\(s\):\n {2}\S*distractors\/broken\.jpg/);
  const saved = JSON.parse(readFileSync(join(dir, 'model', 'copydays_results.json'), 'utf8')) as { copydaysSubset: string; skipped: string[]; groupQueries: Record<string, number> };
  assert.is(saved.copydaysSubset, 'strong');
  assert.equal(saved.skipped, [join(root, 'distractors/broken.jpg')]);

  const all = cli(...common, '--skip-unreadable', '--copydays-subset', 'all', '--input-crop', 'square');
  assert.is(all.status, 0, all.stderr);
  assert.match(all.stdout, /all subset, 3 distractors, 5 queries, database 5 \(square 64\)/);
  for (const [group, n] of [['crops', 2], ['jpegqual', 1], ['strong', 2]] as const) assert.match(all.stdout, new RegExp(`\\n {2}${group}: mAP [\\d.]+% \\(${n} queries\\)`));
  for (const level of ['crops/10', 'crops/50', 'jpegqual/5']) assert.match(all.stdout, new RegExp(`\\n {4}${level}: mAP [\\d.]+% \\(1 queries\\)`));

  const clash = cli(...common, '--val-mode', 'rect', '--input-crop', 'square');
  assert.is(clash.status, 1);
  assert.match(clash.stderr, /--val-mode rect and --input-crop square disagree/);
});

test.run();
