// p-finetuning: only the GeM exponent learns; its first SGD step follows the
// finite-difference gradient of the step's mean cross-entropy, also when the step's images come
// in pieces of different sizes (rect mode); the trunk, classifier and batchnorm statistics stay
// bit-identical; the learning rate decays polynomially. p leaving (0, inf) stops the tuning
// with a message (and p restored); p below 1 gives one warning.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  shuffledImagesPerClass,
  init, tensor, noGrad, crossEntropy, MultiGrain, DataLoader, RecordDataset, createRgbImage, finetuneP, firstImagesPerClass,
  polyLr, checkFinetunedP, type HostBatch, type Shape,
  Module, Linear, GeMPool, DataRng, type Tensor, type Dataset,
} from '../../src/index.js';
import { rng } from '../helpers.js';

const test = suite('finetune-p');

test.before(async () => {
  await init();
});

/** Labelled random images: 0, 1 are 32x32, 2, 3 are 48x40, then alternating, so that step 0 (B = 4) comes in two pieces. */
function dataset(count: number): RecordDataset {
  const rand = rng(21);
  return new RecordDataset(Array.from({ length: count }, (_, i) => {
    const [w, h] = (i < 4 ? i < 2 : i % 2 === 0) ? [32, 32] : [48, 40];
    return { image: createRgbImage(w, h, Uint8Array.from({ length: w * h * 3 }, () => Math.floor(rand() * 256))), label: i % 3 };
  }));
}

async function snapshot(model: MultiGrain): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const [name, t] of model.stateTensors()) out.set(name, Float32Array.from((await t.toArray()) as Float32Array));
  return out;
}

/** Mean cross-entropy of the given host batches at exponent p (eval mode, no autograd). */
async function meanLoss(model: MultiGrain, batches: HostBatch[], p: number): Promise<number> {
  model.pool.p.assign(Float32Array.of(p));
  let sum = 0;
  let n = 0;
  for (const b of batches) {
    const loss = noGrad(() => crossEntropy(model.forward(tensor(b.images, b.shape as Shape)).logits, tensor(b.labels, [b.labels.length], 'i32')));
    sum += ((await loss.item()) as number) * b.labels.length;
    n += b.labels.length;
    loss.dispose();
  }
  return sum / n;
}

test('first step = -lr x finite-difference gradient of the step mean CE (a step in two sizes); only p changes', async () => {
  const model = new MultiGrain({ backbone: 18, numClasses: 3, baseWidth: 2, poolingExponent: 3, seed: 4 });
  model.eval();
  const data = dataset(4);
  const loader = new DataLoader({ dataset: data, transform: { kind: 'val', mode: 'rect', size: 48 }, workers: 0 });
  const batches: HostBatch[] = [];
  for await (const b of loader.evaluation({ batchSize: 4 })) batches.push(b);
  assert.is(batches.length, 2, 'the step comes in two pieces (two image sizes)');
  const h = 1e-2;
  const grad = ((await meanLoss(model, batches, 3 + h)) - (await meanLoss(model, batches, 3 - h))) / (2 * h);
  model.pool.p.assign(Float32Array.of(3));
  const before = await snapshot(model);
  const lr = 0.5;
  const result = await finetuneP(model, loader, { learningRate: lr, batchSize: 4 });
  assert.is(result.steps, 1);
  assert.is(result.initialP, 3);
  const step = (3 - result.p) / lr;
  assert.ok(Math.abs(step - grad) <= 2e-3 * Math.abs(grad) + 1e-5, `dL/dp: SGD step ${step} vs finite difference ${grad}`);
  assert.ok(Math.abs(result.p - 3) > 1e-4, 'p moved');
  const after = await snapshot(model);
  for (const [name, values] of before) {
    if (name === 'pool.p') continue;
    assert.equal(after.get(name), values, `${name} unchanged`);
  }
  assert.ok(!model.pool.p.requiresGrad && model.namedBuffers().some(([n]) => n === 'pool.p'), 'p is a fixed buffer again');
  assert.ok(!model.training, 'left in eval mode');
  await loader.close();
  model.parameters().forEach((t) => t.dispose());
});

test('several steps: polynomial decay, history, subset indices; bad labels are refused', async () => {
  const model = new MultiGrain({ backbone: 18, numClasses: 3, baseWidth: 2, poolingExponent: 2, seed: 5 });
  const data = dataset(14);
  const loader = new DataLoader({ dataset: data, transform: { kind: 'val', mode: 'rect', size: 48 }, workers: 0 });
  const indices = firstImagesPerClass(data.labels, 3); // 9 images -> 3 steps of up to 4 (4, 4, 1)
  assert.equal([...indices], [0, 1, 2, 3, 4, 5, 6, 7, 8]);
  const result = await finetuneP(model, loader, { learningRate: 0.01, batchSize: 4, indices, initialP: 3.5, logEvery: 1 });
  assert.is(result.steps, 3);
  assert.is(result.initialP, 3.5);
  assert.equal(result.history.map((r) => r.step), [1, 2, 3]);
  result.history.forEach((r, i) => {
    assert.ok(Math.abs(r.lr - polyLr(0.01, i, 3, 0.9)) < 1e-15, `lr of step ${i}`);
    assert.ok(Number.isFinite(r.loss) && r.loss > 0);
  });
  assert.ok(Math.abs(result.history[2]!.p - result.p) < 1e-6, 'last record = final p');
  assert.equal([...firstImagesPerClass(Int32Array.of(2, 0, 2, -1, 2, 0), 2)], [0, 1, 2, 5]);
  const unlabelled = new RecordDataset([{ image: createRgbImage(32, 32), label: -1 }]);
  const bad = new DataLoader({ dataset: unlabelled, transform: { kind: 'val', mode: 'rect', size: 32 }, workers: 0 });
  let message = '';
  await finetuneP(model, bad).catch((err: Error) => (message = err.message));
  assert.match(message, /label -1 is not a class of the model/);
  assert.ok(!model.pool.p.requiresGrad, 'p fixed again after the error');
  await loader.close();
  await bad.close();
  model.parameters().forEach((t) => t.dispose());
});

test('the tuning images are shuffled with the seed: steps mix classes, the set is the first N per class, deterministic', () => {
  // 10 classes of 40 images, in class order (as an ImageFolder lists them)
  const labels = Int32Array.from({ length: 400 }, (_, i) => Math.floor(i / 40));
  const first = firstImagesPerClass(labels, 8);
  const shuffled = shuffledImagesPerClass(labels, 8, 0);
  assert.equal([...shuffled].sort((a, b) => a - b), [...first], 'the same images');
  assert.equal([...shuffledImagesPerClass(labels, 8, 0)], [...shuffled], 'deterministic for a seed');
  assert.not.equal([...shuffledImagesPerClass(labels, 8, 1)], [...shuffled], 'another seed, another order');
  // steps of 4 images: in dataset order every step holds one class; shuffled, most steps mix
  const classesPerStep = (order: Int32Array) => Array.from({ length: order.length / 4 }, (_, s) => new Set([...order.subarray(4 * s, 4 * s + 4)].map((i) => labels[i])).size);
  assert.ok(classesPerStep(first).every((n) => n <= 2), 'dataset order: one class (or a class boundary) per step');
  const mixed = classesPerStep(shuffled).filter((n) => n >= 2).length;
  assert.ok(mixed >= 15, `shuffled: ${mixed} of 20 steps mix classes`);
});

test('p leaving (0, inf) stops with a message naming p and --learning-rate; p below 1 warns once', () => {
  const warnings: string[] = [];
  const warn = (m: string): void => void warnings.push(m);
  for (const bad of [-1.09, 0, NaN, Infinity]) {
    assert.throws(() => checkFinetunedP(bad, 10, 3, 0.005, false, warn), (err: Error) =>
      err.message.includes('p left (0, inf)') && err.message.includes(`p = ${bad}`) && err.message.includes('step 10') && err.message.includes('--learning-rate'), `p = ${bad}`);
  }
  assert.is(checkFinetunedP(2.5, 10, 3, 0.005, false, warn), false);
  assert.is(warnings.length, 0, 'p >= 1: no warning');
  assert.is(checkFinetunedP(0.8, 20, 3, 0.005, false, warn), true);
  assert.is(checkFinetunedP(0.7, 30, 3, 0.005, true, warn), true);
  assert.is(warnings.length, 1, 'one warning');
  assert.match(warnings[0]!, /p = 0\.8000 < 1 after step 20: GeM with p < 1 pools below the arithmetic mean/);
});

test('a learning rate far too large: finetuneP stops at the readback where p left (0, inf), p restored', async () => {
  const model = new MultiGrain({ backbone: 18, numClasses: 3, baseWidth: 2, poolingExponent: 3, seed: 4 });
  const loader = new DataLoader({ dataset: dataset(12), transform: { kind: 'val', mode: 'rect', size: 48 }, workers: 0 });
  const warnings: string[] = [];
  let message = '';
  await finetuneP(model, loader, { learningRate: 1e6, batchSize: 4, logEvery: 1, warn: (m) => void warnings.push(m) })
    .catch((err: Error) => (message = err.message));
  assert.ok(message, `p went from 3 with lr 1e6; warnings: ${warnings.join(" / ")}`);
  assert.match(message, /finetune-p: p left \(0, inf\): p = \S+ after step [1-3] \(it started at 3\)/, message);
  assert.is(await model.pool.p.item(), 3, 'p is restored');
  assert.ok(!model.pool.p.requiresGrad, 'p fixed again');
  await loader.close();
  model.parameters().forEach((t) => t.dispose());
});

/** Not MultiGrain: GeM over the raw pixels and a linear classifier, no trunk/head split. */
class PooledPixels extends Module {
  readonly pool: GeMPool;
  readonly classifier: Linear;
  constructor() {
    super();
    this.pool = this.addModule('pool', new GeMPool(3, false));
    this.classifier = this.addModule('classifier', new Linear(3, 3, true, new DataRng(8)));
  }
  forward(x: Tensor): { logits: Tensor } {
    return { logits: this.classifier.forward(this.pool.forward(x)) };
  }
}

test('any model with a GeM pool, on any Dataset (get() only, CHW images): the first step follows the finite difference', async () => {
  const rand = rng(5);
  const samples = Array.from({ length: 4 }, (_, i) => ({
    image: { channels: 3, width: 6, height: 5, data: Float32Array.from({ length: 90 }, () => 0.05 + rand()) },
    label: i % 3,
  }));
  const data: Dataset = { length: samples.length, get: (i) => samples[i]! };
  const model = new PooledPixels();
  const x = tensor(Float32Array.from(samples.flatMap((s) => [...s.image.data])), [4, 3, 5, 6]);
  const labels = tensor(Int32Array.from(samples, (s) => s.label), [4], 'i32');
  const lossAt = async (p: number): Promise<number> => {
    model.pool.p.assign(Float32Array.of(p));
    const loss = noGrad(() => crossEntropy(model.forward(x).logits, labels));
    const v = (await loss.item()) as number;
    loss.dispose();
    return v;
  };
  const h = 1e-2;
  const grad = ((await lossAt(3 + h)) - (await lossAt(3 - h))) / (2 * h);
  const lr = 0.5;
  const result = await finetuneP(model, data, { learningRate: lr, batchSize: 4, initialP: 3 });
  assert.is(result.steps, 1);
  const step = (3 - result.p) / lr;
  assert.ok(Math.abs(step - grad) <= 2e-3 * Math.abs(grad) + 1e-5, `dL/dp: SGD step ${step} vs finite difference ${grad}`);
  assert.ok(!model.pool.p.requiresGrad, 'p fixed again');
  x.dispose();
  labels.dispose();
});

test.run();
