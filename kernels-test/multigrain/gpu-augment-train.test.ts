// --gpu-augment (default) against --no-gpu-augment: the same seed gives the same first-step
// loss (the same crops and draws; the GPU's f32 factors may move a rare pixel by one 8-bit
// level), with the margin loss on; the GPU path is taken (its log line) where the dataset has
// records, and not for Fashion-MNIST's in-memory images.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { init, train, type TrainOptions } from '../../src/index.js';
import { scratchDir } from '../scratch-dir.js';
import { makeImage, writeImage } from '../data/helpers.js';

const test = suite('gpu-augment-train');
test.before(async () => {
  await init();
});

test('the first steps\' losses agree with and without --no-gpu-augment', async () => {
  const root = scratchDir('gpu-augment-data');
  for (let i = 0; i < 12; i++) {
    const img = makeImage(48, 40, (x, y) => [(x * 5 + i * 21) % 256, (y * 6 + x * i) % 256, (x * y + i * 50) % 256]);
    await writeImage(join(root, 'train', i % 2 ? 'a' : 'b', `${i}.jpg`), img);
    if (i < 4) await writeImage(join(root, 'val', i % 2 ? 'a' : 'b', `${i}.jpg`), img);
  }
  const options: Partial<TrainOptions> = {
    dataset: 'imagefolder', dataPath: root, backbone: 18, baseWidth: 2, inputSize: 32, batchSize: 6, repeatedAugmentations: 2,
    classifWeight: 0.5, augmentation: 'full', epochs: 1, epochLenFactor: 1, learningRate: 0.1, logEvery: 1, workers: 1, saveEvery: 0,
    validateFirst: false, progress: false, seed: 3,
  };
  const run = async (gpuAugment: boolean) => {
    const dir = scratchDir(`gpu-augment-${gpuAugment}`);
    const lines: string[] = [];
    await train({ ...options, gpuAugment, expdir: dir }, (l) => lines.push(l));
    const steps = JSON.parse(readFileSync(join(dir, 'steps.json'), 'utf8')) as { loss: number; cross_entropy: number; margin: number }[];
    return { steps, gpuLine: lines.some((l) => l.includes('colour augmentation and normalisation on the GPU')) };
  };
  const gpu = await run(true);
  const cpu = await run(false);
  assert.ok(gpu.gpuLine, 'the GPU path was taken');
  assert.not.ok(cpu.gpuLine);
  assert.is(gpu.steps.length, 2);
  const [a, b] = [gpu.steps[0]!, cpu.steps[0]!];
  for (const k of ['loss', 'cross_entropy', 'margin'] as const) {
    assert.ok(Number.isFinite(a[k]) && Math.abs(a[k] - b[k]) <= 1e-3 * Math.max(1, Math.abs(b[k])), `first step ${k}: gpu ${a[k]} cpu ${b[k]}`);
  }
});

test.run();
