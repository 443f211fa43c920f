// `train` and its experiment folder: a second run on a folder in use is refused before it
// writes anything; a stale lock is taken over; resuming with options that differ from the
// folder's train_args.json is refused naming each one (old → new), and goes on with
// --force-args; orphaned temp files are removed at start; `--epochs 0` says truthfully what
// it wrote; a .pth given to --resume-from is named as such, with --pretrained-backbone as the
// way to use it; finetune-p and whiten lock their output folder too. Tiny network and subsets,
// mostly runs with no epoch to train.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { init, train, atomicTempName, LOCK_FILE, type TrainOptions } from '../../src/index.js';
import { assertThrowsWith } from '../helpers.js';
import { scratchDir } from '../scratch-dir.js';

const test = suite('experiment-folder');
const tiny: Partial<TrainOptions> = {
  dataset: 'fashion-mnist', backbone: 18, baseWidth: 2, inputSize: 32, batchSize: 12, repeatedAugmentations: 3,
  classifWeight: 0.5, poolingExponent: 3, augmentation: 'torch', epochs: 1, epochLenFactor: 1, learningRate: 0.5, lrScaling: 'linear',
  lrDropsEpochs: [], lrDropsFactors: [], trainSubset: 24, valSubset: 12, logEvery: 2, workers: 0, saveEvery: 0,
  validateFirst: false, progress: false,
};
const pth = (name: string) => fileURLToPath(new URL(`../../../kernels-test/${name}`, import.meta.url));

test.before(async () => {
  await init();
});

/** A folder holding a finished one-epoch run of `tiny`. */
let finished = '';
async function finishedRun(): Promise<string> {
  if (!finished) {
    finished = scratchDir('finished');
    await train({ ...tiny, expdir: finished }, () => undefined);
  }
  return finished;
}

test('a second run on a folder in use is refused at once, naming the folder and the holder', async () => {
  const dir = scratchDir('busy');
  // the run holding it: this very process (alive, same host)
  writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: process.pid, host: hostname(), started: '2024-05-01T10:00:00.000Z', command: 'train' }));
  await assertThrowsWith(() => train({ ...tiny, expdir: dir }, () => undefined), [dir, 'in use', `pid ${process.pid}`, hostname(), '2024-05-01T10:00:00.000Z', '--expdir'], 'busy folder');
  assert.equal(readdirSync(dir), [LOCK_FILE], 'nothing written, the holder\'s lock kept');
});

test('a stale lock (dead pid) is taken over with a message; orphaned temp files are removed; the lock goes at the end', async () => {
  const dir = scratchDir('stale');
  const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
  writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: dead, host: hostname(), started: '2024-05-01T10:00:00.000Z', command: 'train' }));
  const orphan = atomicTempName('checkpoint_1.safetensors', dead);
  writeFileSync(join(dir, orphan), 'half a checkpoint');
  const lines: string[] = [];
  await train({ ...tiny, expdir: dir, epochs: 0 }, (l) => lines.push(l));
  assert.ok(lines.some((l) => l.includes(`pid ${dead}`) && l.includes('no longer running')), lines.join('\n'));
  assert.ok(lines.some((l) => l.includes('removed 1 temporary file') && l.includes(orphan)), lines.join('\n'));
  assert.not.ok(existsSync(join(dir, orphan)), 'orphan removed');
  assert.not.ok(existsSync(join(dir, LOCK_FILE)), 'lock released at the end');
});

test('the lock is released when the run fails', async () => {
  const dir = scratchDir('fails');
  await assertThrowsWith(() => train({ ...tiny, expdir: dir, dataset: 'imagefolder', dataPath: join(dir, 'missing') }, () => undefined), ['missing'], 'no data');
  assert.not.ok(existsSync(join(dir, LOCK_FILE)), 'lock released on error');
});

test('resuming with other options is refused naming each (old → new); --force-args goes on and rewrites train_args.json', async () => {
  const dir = await finishedRun();
  const args = readFileSync(join(dir, 'train_args.json'), 'utf8');
  await assertThrowsWith(() => train({ ...tiny, expdir: dir, learningRate: 0.1, seed: 7, cropScale: [0.2, 1] }, () => undefined),
    [dir, '--learning-rate 0.5 → 0.1', '--seed 0 → 7', '--crop-scale 0.08,1 → 0.2,1', '--force-args'], 'differing args');
  assert.is(readFileSync(join(dir, 'train_args.json'), 'utf8'), args, 'train_args.json untouched');
  assert.not.ok(existsSync(join(dir, LOCK_FILE)), 'lock released after the refusal');
  // options that do not shape the run may differ
  await train({ ...tiny, expdir: dir, workers: 1, logEvery: 5, saveEvery: 3, progress: true, validateFirst: true }, () => undefined);
  const lines: string[] = [];
  await train({ ...tiny, expdir: dir, learningRate: 0.1, forceArgs: true }, (l) => lines.push(l));
  assert.ok(lines.some((l) => l.includes('--force-args') && l.includes('--learning-rate 0.5 → 0.1')), lines.join('\n'));
  const saved = JSON.parse(readFileSync(join(dir, 'train_args.json'), 'utf8')) as Record<string, unknown>;
  assert.is(saved.learningRate, 0.1, 'rewritten');
  assert.not.ok('forceArgs' in saved, 'how it was resumed is not recorded as a setting');
  await train({ ...tiny, expdir: dir, learningRate: 0.1 }, () => undefined); // the new values are now the folder's
});

test('a .pth given to --resume-from is named, with --pretrained-backbone as the way to use it', async () => {
  const file = pth('multigrain/fixtures/pth/tv_r18w2.pth');
  await assertThrowsWith(() => train({ ...tiny, expdir: scratchDir('pth'), resumeFrom: file }, () => undefined),
    [`--resume-from ${file}`, 'PyTorch', 'zip', `--pretrained-backbone ${file}`], '.pth resume');
  await assertThrowsWith(() => train({ ...tiny, expdir: scratchDir('pth-legacy'), resumeFrom: pth('io/fixtures/tiny_legacy.pth') }, () => undefined),
    ['PyTorch', 'legacy', '--pretrained-backbone'], 'legacy .pth resume');
  // the suggested flag reads that file
  const lines: string[] = [];
  await train({ ...tiny, expdir: scratchDir('pretrained'), epochs: 0, pretrainedBackbone: file }, (l) => lines.push(l));
  assert.ok(lines.some((l) => l.includes(`loaded the trunk from ${file}`)), lines.join('\n'));
});

test('finetune-p and whiten refuse an output folder in use, naming it and the holder', async () => {
  const source = await finishedRun();
  for (const command of ['finetune-p', 'whiten']) {
    const out = scratchDir(`busy-${command}`);
    writeFileSync(join(out, LOCK_FILE), JSON.stringify({ pid: process.pid, host: hostname(), started: '2024-05-01T10:00:00.000Z', command: 'train' }));
    const run = spawnSync(process.execPath, [resolve('dist/node/cli.js'), command, '--resume-from', source, '--expdir', out, '--workers', '0',
      ...(command === 'whiten' ? ['--num-whiten-images', '8'] : ['--val-subset', '4'])], { encoding: 'utf8', timeout: 60_000 });
    assert.is(run.status, 1, `${command}: ${run.stdout}${run.stderr}`);
    for (const part of [`multigrain ${command}: ${out} is in use`, `pid ${process.pid}`, hostname()]) assert.ok(run.stderr.includes(part), `${command}: ${run.stderr}`);
    assert.equal(readdirSync(out), [LOCK_FILE], `${command} wrote nothing`);
  }
});

test('--epochs 0 says it wrote train_args.json only, and writes nothing else', () => {
  const dir = scratchDir('epochs0');
  const run = spawnSync(process.execPath, [resolve('dist/node/cli.js'), 'train', '--expdir', dir, '--epochs', '0', '--base-width', '2',
    '--train-subset', '24', '--val-subset', '12', '--batch-size', '12', '--workers', '0', '--no-validate-first'], { encoding: 'utf8', timeout: 60_000 });
  assert.is(run.status, 0, run.stderr);
  assert.equal(readdirSync(dir), ['train_args.json']);
  assert.ok(run.stdout.includes('no epoch trained (--epochs 0)'), run.stdout);
  assert.ok(run.stdout.includes(`experiment folder: ${dir} (train_args.json; no epoch trained`), run.stdout);
  assert.not.ok(/metrics\.json, loss\.svg/.test(run.stdout), `claims files it did not write: ${run.stdout}`);
});

test.run();
