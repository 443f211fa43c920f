// train() as a library: a user's in-memory dataset (no record(), no labels list), a small
// model of their own, callbacks, and a stop that a later call resumes from the last
// checkpoint, ending with exactly the weights of an uninterrupted run; bad data is refused
// naming the item.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  init, train, reshape, Module, Linear, DataRng, MemoryFileStore, decodeCheckpoint, hostTensorToFloat32,
  type Tensor, type Dataset, type DatasetSample, type StepRecord, type EpochRecord, type TrainOptions, type CheckpointEvent,
} from '../../src/index.js';
import { assertThrowsWith, rng } from '../helpers.js';

const test = suite('train-inputs');
const SIZE = 32; // inputSize >= 32 is checked for every model (the default transforms use it)
const CLASSES = ['red', 'green', 'blue'];

/** Images whose class is the brightest channel, plus noise: separable by a linear model. */
function colourSet(n: number, seed: number, asRgb: boolean): DatasetSample[] {
  const r = rng(seed);
  return Array.from({ length: n }, (_, i) => {
    const label = i % CLASSES.length;
    const plane = SIZE * SIZE;
    if (asRgb) {
      const data = new Uint8Array(plane * 3);
      for (let p = 0; p < plane; p++) for (let c = 0; c < 3; c++) data[p * 3 + c] = Math.round((c === label ? 150 : 60) + 80 * r());
      return { image: { width: SIZE, height: SIZE, data }, label };
    }
    const data = new Float32Array(plane * 3);
    for (let c = 0; c < 3; c++) for (let p = 0; p < plane; p++) data[c * plane + p] = (c === label ? 1 : -0.5) + 0.8 * (r() - 0.5);
    return { image: { channels: 3, width: SIZE, height: SIZE, data }, label };
  });
}

/** A user's dataset: length and get() only. */
function memoryDataset(samples: DatasetSample[]): Dataset {
  return { length: samples.length, get: (i) => samples[i]! };
}

/** Not MultiGrain: flatten, a 16-d embedding, a linear classifier. */
class TinyNet extends Module {
  readonly embed: Linear;
  readonly classifier: Linear;
  constructor(seed: number) {
    super();
    this.embed = this.addModule('embed', new Linear(3 * SIZE * SIZE, 16, true, new DataRng(seed)));
    this.classifier = this.addModule('classifier', new Linear(16, CLASSES.length, true, new DataRng(seed + 1)));
  }
  forward(x: Tensor): { embedding: Tensor; logits: Tensor } {
    const embedding = this.embed.forward(reshape(x, [x.shape[0]!, 3 * SIZE * SIZE]));
    return { embedding, logits: this.classifier.forward(embedding) };
  }
}

const options: Partial<TrainOptions> = {
  expdir: 'run', epochs: 3, batchSize: 6, repeatedAugmentations: 2, epochLenFactor: 1, learningRate: 20, lrDropsEpochs: [], lrDropsFactors: [],
  classifWeight: 0.5, logEvery: 1, saveEvery: 0, validateFirst: false, progress: false, workers: 2, inputSize: SIZE,
};
const quiet = () => undefined;

test.before(async () => {
  await init();
});

async function weightsOf(files: MemoryFileStore, path: string): Promise<Map<string, Float32Array>> {
  const ckpt = decodeCheckpoint(await files.readFile(path));
  return new Map([...ckpt.groups.model!].map(([k, v]) => [k, hostTensorToFloat32(v)] as [string, Float32Array]));
}

test('your own dataset and model train through train(), with callbacks; the loss goes down', async () => {
  const files = new MemoryFileStore();
  const steps: StepRecord[] = [];
  const epochs: EpochRecord[] = [];
  const checkpoints: CheckpointEvent[] = [];
  const notes: string[] = [];
  const model = new TinyNet(3);
  const result = await train({
    ...options,
    data: { train: memoryDataset(colourSet(24, 1, false)), val: memoryDataset(colourSet(9, 2, false)), classes: CLASSES },
    model,
    onStep: (r) => { steps.push(r); },
    onEpoch: (r) => { epochs.push(r); },
    onCheckpoint: (c) => { checkpoints.push(c); },
  }, (line) => notes.push(line), files);
  assert.is(result.model, model, 'the model given is the model trained');
  assert.not.ok(result.stopped);
  assert.is(epochs.length, 3);
  assert.equal(checkpoints.map((c) => c.epoch), [1, 2, 3]);
  assert.is(result.checkpoint, 'run/checkpoint_3.safetensors');
  assert.ok(await files.stat(checkpoints[2]!.path), 'the checkpoint is in the store given');
  const meta = decodeCheckpoint(await files.readFile(result.checkpoint!)).meta as { classes: string[] };
  assert.equal(meta.classes, CLASSES, 'the checkpoint keeps the class names');
  assert.ok(steps.length >= 6, `one record per step (logEvery 1), got ${steps.length}`);
  const first = steps.slice(0, 2).reduce((a, s) => a + s.cross_entropy, 0) / 2;
  const last = steps.slice(-2).reduce((a, s) => a + s.cross_entropy, 0) / 2;
  assert.ok(last < 0.7 * first, `the cross-entropy goes down: ${first.toFixed(3)} -> ${last.toFixed(3)}`);
  assert.ok(epochs[2]!.val!.top1 > 60, `validation top-1 ${epochs[2]!.val!.top1}%`);
  assert.ok(notes.some((n) => n.includes('no record()') && n.includes('calling thread')), `a note says why no worker is used: ${notes.join(' | ')}`);
});

test('8-bit RGB images go through the transform; labels come from get(); no validation set', async () => {
  const files = new MemoryFileStore();
  const result = await train({
    ...options, epochs: 1, workers: 0, classifWeight: 1,
    data: { train: memoryDataset(colourSet(12, 3, true)), classes: CLASSES },
    transforms: { train: { kind: 'val', mode: 'square', size: SIZE } },
    model: new TinyNet(4),
  }, quiet, files);
  assert.is(result.history.length, 1);
  assert.is(result.history[0]!.val, undefined, 'no validation without a validation set');
  assert.ok(result.history[0]!.train!.loss > 0 && Number.isFinite(result.history[0]!.train!.loss));
});

test('a stop after a step drops the epoch; a later train() resumes and matches an uninterrupted run', async () => {
  const data = { train: memoryDataset(colourSet(24, 5, false)), val: memoryDataset(colourSet(6, 6, false)), classes: CLASSES };
  const whole = new MemoryFileStore();
  await train({ ...options, data, model: new TinyNet(7) }, quiet, whole);

  const files = new MemoryFileStore();
  const controller = new AbortController();
  let seen = 0;
  const stopped = await train({
    ...options, data, model: new TinyNet(7), signal: controller.signal,
    onStep: (r) => { if (r.epoch > 1 && ++seen === 1) controller.abort(); },
  }, quiet, files);
  assert.ok(stopped.stopped, 'the run says it stopped');
  assert.equal(stopped.history.map((h) => h.epoch), [1], 'epoch 2 was stopped, not recorded');
  assert.ok(await files.stat('run/checkpoint_1.safetensors'));
  assert.is(await files.stat('run/checkpoint_2.safetensors'), null, 'no checkpoint of the stopped epoch');

  const resumed = await train({ ...options, data, model: new TinyNet(99) }, quiet, files);
  assert.not.ok(resumed.stopped);
  assert.equal(resumed.history.map((h) => h.epoch), [1, 2, 3]);
  const a = await weightsOf(whole, 'run/checkpoint_3.safetensors');
  const b = await weightsOf(files, 'run/checkpoint_3.safetensors');
  for (const [k, v] of a) assert.equal(Array.from(b.get(k)!), Array.from(v), `${k} equals the uninterrupted run's`);
});

test('bad data and models are refused naming what is wrong', async () => {
  const files = new MemoryFileStore();
  const labelled = Object.assign(memoryDataset(colourSet(6, 8, false)), { labels: Int32Array.of(0, 1, 2, 0, 7, 1) });
  await assertThrowsWith(() => train({ ...options, data: { train: labelled, classes: CLASSES }, model: new TinyNet(1) }, quiet, files),
    ['data.train item 4', 'label 7', '[0, 3)'], 'a label outside the classes');
  const broken: Dataset = { length: 12, get: (i) => ({ image: { width: SIZE, height: SIZE, data: new Uint8Array(5) }, label: i % 3 }) };
  await assertThrowsWith(() => train({ ...options, expdir: 'run2', data: { train: broken, classes: CLASSES }, model: new TinyNet(1) }, quiet, files),
    ['dataset item', '32x32', '3072 bytes'], 'an image of the wrong size');
  class LogitsOnly extends TinyNet {
    override forward(x: Tensor): { embedding: Tensor; logits: Tensor } {
      return { logits: super.forward(x).logits } as { embedding: Tensor; logits: Tensor };
    }
  }
  await assertThrowsWith(() => train({ ...options, expdir: 'run3', data: { train: memoryDataset(colourSet(12, 9, false)), classes: CLASSES }, model: new LogitsOnly(1) }, quiet, files),
    ['margin loss', 'embedding', 'classifWeight 1'], 'a model without an embedding under the margin loss');
});

test.run();
