// The trainer on a tiny network and a slice of Fashion-MNIST: a run killed with SIGKILL
// and resumed ends with exactly the weights of an uninterrupted run; checkpoints are
// pruned as asked; a NaN loss stops the run naming the step and leaves the checkpoint
// intact; a batch above the GPU's limits names the batch size and resolution; m = 1 with
// lambda < 1 is refused.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { init, runtime, train, loadCheckpointFile, hostTensorToFloat32, scaledLr, validateTrainOptions, TRAIN_DEFAULTS, type TrainOptions } from '../../src/index.js';
import { assertThrowsWith } from '../helpers.js';
import { scratchDir } from '../scratch-dir.js';
import { makeImage, writeBytes, writeImage } from '../data/helpers.js';

const test = suite('trainer');
const tiny: Partial<TrainOptions> = {
  dataset: 'fashion-mnist', backbone: 18, baseWidth: 2, inputSize: 32, batchSize: 12, repeatedAugmentations: 3,
  classifWeight: 0.5, poolingExponent: 3, augmentation: 'torch', epochs: 2, epochLenFactor: 1, learningRate: 0.5, lrScaling: 'linear',
  lrDropsEpochs: [1], lrDropsFactors: [0.5], trainSubset: 36, valSubset: 12, logEvery: 2, workers: 1, saveEvery: 0,
  validateFirst: false, progress: false,
};
const quiet = () => undefined;

test.before(async () => {
  await init();
});

async function weights(file: string): Promise<Map<string, Float32Array>> {
  const ckpt = await loadCheckpointFile(file);
  const out = new Map<string, Float32Array>();
  for (const group of ['model', 'optimizer', 'extra']) {
    for (const [k, v] of ckpt.groups[group] ?? new Map()) out.set(`${group}/${k}`, hostTensorToFloat32(v));
  }
  return out;
}

test('a run killed with SIGKILL and resumed matches an uninterrupted run exactly', async () => {
  const a = scratchDir('train-a');
  const b = scratchDir('train-b');
  await train({ ...tiny, expdir: a }, quiet);
  assert.equal(readdirSync(a).filter((f) => f.startsWith('checkpoint_')), ['checkpoint_2.safetensors'], 'saveEvery 0 keeps only the last');
  for (const f of ['metrics.json', 'loss.svg', 'accuracy.svg', 'beta.svg', 'lr.svg', 'train_args.json']) assert.ok(existsSync(join(a, f)), f);
  const history = JSON.parse(readFileSync(join(a, 'metrics.json'), 'utf8'));
  assert.is(history.length, 2);
  assert.ok(history[1].train.loss > 0 && history[1].val.top1 >= 0);
  // `multigrain evaluate` on the experiment folder takes the run's trunk, width, size and
  // validation mode from its train_args.json and reproduces the trainer's validation figure
  const evaluation = spawnSync(process.execPath, [resolve('dist/node/cli.js'), 'evaluate', '--resume-from', a,
    '--batch-size', '12', '--val-subset', '12', '--workers', '1'], { encoding: 'utf8', timeout: 60_000 });
  assert.is(evaluation.status, 0, evaluation.stderr);
  assert.ok(evaluation.stdout.includes(`top-1 ${history[1].val.top1.toFixed(2)}%`), `evaluate printed: ${evaluation.stdout}`);

  // run B in a child process with 4 epochs; kill it once checkpoint_1 exists, during epoch 2
  const cli = resolve('dist/node/cli.js');
  const args = ['train', '--expdir', b, '--dataset', 'fashion-mnist', '--backbone', 'resnet18', '--base-width', '2', '--input-size', '32',
    '--batch-size', '12', '--repeated-augmentations', '3', '--crop-scale', '0.08,1', '--classif-weight', '0.5', '--pooling-exponent', '3', '--augmentation', 'torch',
    '--epochs', '4', '--epoch-len-factor', '1', '--learning-rate', '0.5', '--lr-scaling', 'linear', '--lr-drops-epochs', '1', '--lr-drops-factors', '0.5',
    '--train-subset', '36', '--val-subset', '12', '--log-every', '2', '--workers', '1', '--save-every', '0', '--no-validate-first',
    '--val-mode', 'square', '--sampling-replicas', '0']; // `tiny`'s, so that the resume below finds the same options in train_args.json
  const child = spawn(process.execPath, [cli, ...args], { stdio: 'ignore' });
  const killed = await new Promise<boolean>((done) => {
    const timer = setInterval(() => {
      if (existsSync(join(b, 'checkpoint_1.safetensors'))) {
        clearInterval(timer);
        child.kill('SIGKILL');
        done(true);
      }
    }, 20);
    child.on('exit', () => {
      clearInterval(timer);
      done(false);
    });
  });
  assert.ok(killed, 'the child was killed mid-run');
  await new Promise((r) => child.once('exit', r));
  assert.not.ok(existsSync(join(b, 'checkpoint_2.safetensors')), 'killed before epoch 2 finished');
  // resume with the same settings, 2 epochs in total, as run A
  await train({ ...tiny, expdir: b }, quiet);
  const wa = await weights(join(a, 'checkpoint_2.safetensors'));
  const wb = await weights(join(b, 'checkpoint_2.safetensors'));
  assert.equal([...wb.keys()].sort(), [...wa.keys()].sort());
  // one SGD, two groups: every network parameter's momentum under `backbone.`, beta's under `margin_beta.`
  const momentumKeys = [...wa.keys()].filter((k) => k.startsWith('optimizer/'));
  assert.ok(momentumKeys.includes('optimizer/margin_beta.beta'), 'beta momentum saved');
  assert.is(momentumKeys.filter((k) => k.startsWith('optimizer/backbone.')).length, momentumKeys.length - 1, 'the rest are the network\'s');
  for (const [k, v] of wa) assert.equal(Array.from(wb.get(k)!), Array.from(v), `${k} differs after resume`);
});

test('--warmup-epochs ramps the lr batch by batch, then the step schedule takes over', async () => {
  const dir = scratchDir('warmup');
  // 36 images / batch 12 = 3 batches per epoch; warmup over 1.5 epochs = 4.5 batches
  const result = await train({ ...tiny, expdir: dir, epochs: 3, warmupEpochs: 1.5, logEvery: 1 }, quiet);
  const steps = JSON.parse(readFileSync(join(dir, 'steps.json'), 'utf8')) as Array<{ lr: number }>;
  const base = scaledLr(tiny.learningRate!, tiny.batchSize!);
  const expected = [1 / 4.5, 2 / 4.5, 3 / 4.5, 4 / 4.5, 1, 1, 0.5, 0.5, 0.5].map((f) => base * f); // drop after epoch 1
  assert.is(steps.length, expected.length);
  steps.forEach((s, i) => assert.ok(Math.abs(s.lr - expected[i]) < 1e-12, `step ${i}: lr ${s.lr}, expected ${expected[i]}`));
  assert.equal(result.history.map((r) => r.lr), [base, base, base * 0.5], 'epoch records keep the scheduled lr');
});

test('a warmup longer than the run or negative is refused naming the flag', async () => {
  for (const warmupEpochs of [-1, 3, NaN]) {
    await assertThrowsWith(() => validateTrainOptions({ ...TRAIN_DEFAULTS, ...tiny, expdir: 'x', warmupEpochs } as TrainOptions), ['--warmup-epochs'], `warmup ${warmupEpochs}`);
  }
});

test('m = 1 with lambda < 1 is refused with a clear message', async () => {
  await assertThrowsWith(() => train({ ...tiny, expdir: scratchDir('run'), repeatedAugmentations: 1, classifWeight: 0.5 }, quiet),
    ['--classif-weight', '--repeated-augmentations'], 'refusal');
});

test('a batch too large for the GPU names the batch size and resolution that failed', async () => {
  // The smallest square input whose batch is above the binding limit (128 MiB on lavapipe).
  const limit = runtime().gpu.limits.maxStorageBufferBindingSize;
  const size = Math.ceil(Math.sqrt(limit / (tiny.batchSize! * 3 * 4))) + 8;
  if (size > 2048) return; // a GPU with large bindings: the batch would take gigabytes of host memory
  await assertThrowsWith(() => train({ ...tiny, expdir: scratchDir('oom'), inputSize: size, epochs: 1 }, quiet),
    ['maxStorageBufferBindingSize', `--batch-size ${tiny.batchSize}`, `--input-size ${size}`], 'batch above the GPU limit');
});

test('a last training batch of one image is dropped; a 1-image validation batch is fine', async () => {
  // 13 images in batches of 12: the epoch's last batch would hold one image, which batchnorm
  // cannot normalize in training mode (1 x 1 feature maps at the last stage).
  const dir = scratchDir('one-image-batch');
  const lines: string[] = [];
  const result = await train({
    ...tiny, expdir: dir, trainSubset: 13, valSubset: 13, batchSize: 12, repeatedAugmentations: 1, classifWeight: 1, epochs: 1, logEvery: 1,
  }, (l) => lines.push(l));
  const steps = JSON.parse(readFileSync(join(dir, 'steps.json'), 'utf8')) as unknown[];
  assert.is(steps.length, 1, 'one training step: the 1-image batch was dropped');
  const val = result.history[0]!.val!;
  assert.ok(Number.isFinite(val.cross_entropy) && val.top1 >= 0, `validation over 12 + 1 images: ${JSON.stringify(val)}`);
  assert.ok(existsSync(join(dir, 'checkpoint_1.safetensors')));
  // an epoch too short for any batch is refused up front
  await assertThrowsWith(() => train({ ...tiny, expdir: scratchDir('no-batch'), trainSubset: 1, repeatedAugmentations: 1, classifWeight: 1, epochs: 1 }, quiet),
    ['holds no training batch', 'batchnorm'], 'a one-sample epoch');
});

test('a batch that --skip-unreadable shrinks to one image is skipped with a message', async () => {
  const root = scratchDir('skip-data');
  // 3 readable images and 1 unreadable in batches of 2 (m = 1): the unreadable image leaves
  // its batch with one image, whatever the permutation.
  for (const [i, cls] of ['a', 'a', 'b'].entries()) {
    await writeImage(join(root, 'train', cls, `${i}.png`), makeImage(8, 8, (x, y) => [x * 30, y * 30, i * 80]));
    await writeImage(join(root, 'val', cls, `${i}.png`), makeImage(8, 8, (x, y) => [x * 30, y * 30, i * 80]));
  }
  writeBytes(join(root, 'train', 'b', 'broken.png'), 'not an image');
  const lines: string[] = [];
  const warn = console.warn;
  console.warn = () => undefined; // the loader's per-image warning
  try {
    const result = await train({
      ...tiny, dataset: 'imagefolder', dataPath: root, expdir: scratchDir('skip-run'), trainSubset: 0, valSubset: 0,
      batchSize: 2, repeatedAugmentations: 1, classifWeight: 1, epochs: 1, skipUnreadable: true,
    }, (l) => lines.push(l));
    assert.is(result.history.length, 1);
  } finally {
    console.warn = warn;
  }
  assert.ok(lines.some((l) => /batch \d+: skipped, only 1 readable image/.test(l)), lines.join('\n'));
});

test('--input-size 100000 is refused before any work, naming the flags and the GPU limit', async () => {
  const dir = join(scratchDir('huge-input'), 'run');
  await assertThrowsWith(() => train({ ...tiny, expdir: dir, inputSize: 100000, epochs: 1 }, quiet),
    ['--input-size 100000', `--batch-size ${tiny.batchSize}`, 'maxStorageBufferBindingSize'], 'a huge input size');
  assert.not.ok(existsSync(dir), 'nothing written: the check comes first');
});

test('a NaN loss stops the run naming the step, and the last checkpoint stays intact', async () => {
  const dir = scratchDir('nan');
  await train({ ...tiny, expdir: dir, epochs: 1 }, quiet);
  const before = readFileSync(join(dir, 'checkpoint_1.safetensors'));
  // --force-args: resuming with another learning rate than the folder's
  await assertThrowsWith(() => train({ ...tiny, expdir: dir, epochs: 2, learningRate: 1e30, forceArgs: true }, quiet), ['NaN or infinite', 'step', 'intact'], 'nan');
  assert.ok(readFileSync(join(dir, 'checkpoint_1.safetensors')).equals(before), 'checkpoint_1 unchanged');
  assert.not.ok(existsSync(join(dir, 'checkpoint_2.safetensors')));
});

test.run();
