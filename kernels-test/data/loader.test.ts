import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import {
  DataLoader, DataRng, cpuCores, FashionMnistDataset, ImageDecodeError, ImageFolderDataset, ImageListDataset, NodeImageDecoder, RASampler,
  makeTrainTransform, type HostBatch,
} from '../../src/index.js';
import { gradient, makeImage, rejectsWith, tempDir, writeBytes, writeImage } from './helpers.js';

const tmp = tempDir();
const folder = join(tmp.dir, 'folder');

async function collect(it: AsyncIterable<HostBatch>): Promise<HostBatch[]> {
  const out: HostBatch[] = [];
  for await (const b of it) out.push(b);
  return out;
}

test.before(async () => {
  for (let i = 0; i < 6; i++) {
    await writeImage(join(folder, `${i < 3 ? 'cat' : 'dog'}/${i}.png`), makeImage(64, 48, (x, y) => [(x * 4 + i * 30) % 256, y * 5, i * 40]));
  }
});

test('train batches: NCHW shape, labels, instance ids follow the RA sampler', async () => {
  const ds = await ImageFolderDataset.open(folder);
  const sampler = new RASampler(ds.length, { batchSize: 4, repetitions: 2, lengthFactor: 2, seed: 3 });
  const loader = new DataLoader({ dataset: ds, transform: { kind: 'train', recipe: 'full', size: 32 }, seed: 5, workers: 0 });
  const batches = await collect(loader.trainEpoch(sampler, 0));
  const expected = sampler.epochBatches(0);
  assert.is(batches.length, 3);
  batches.forEach((b, k) => {
    assert.equal(b.shape, [4, 3, 32, 32]);
    assert.is(b.images.length, 4 * 3 * 32 * 32);
    assert.equal([...b.instanceIds], [...expected[k]!]);
    assert.equal([...b.labels], [...expected[k]!].map((i) => (i < 3 ? 0 : 1)));
    assert.equal([...b.positions], [4 * k, 4 * k + 1, 4 * k + 2, 4 * k + 3]);
    assert.equal([b.epoch, b.index], [0, k]);
  });
  // Two copies of one image are augmented independently.
  const b0 = batches[0]!;
  assert.is(b0.instanceIds[0], b0.instanceIds[1]);
  const per = 3 * 32 * 32;
  assert.not.equal(b0.images.subarray(0, per), b0.images.subarray(per, 2 * per));
  // Sample k of epoch e = transform with DataRng.derive(seed, e, k).
  const img = (await ds.get(b0.instanceIds[2]!)).image;
  assert.equal(b0.images.subarray(2 * per, 3 * per), makeTrainTransform('full', 32)(img, DataRng.derive(5, 0, 2)).data);
  await loader.close();
});

test('deterministic under a seed whatever the worker count; epochs and seeds differ; resume mid-epoch', async () => {
  const ds = await ImageFolderDataset.open(folder);
  const sampler = new RASampler(ds.length, { batchSize: 5, repetitions: 3, lengthFactor: 2, seed: 1 });
  const run = async (workers: number, epoch = 0, seed = 7, start = 0) => {
    const loader = new DataLoader({ dataset: ds, transform: { kind: 'train', recipe: 'AA', size: 24 }, seed, workers, prefetch: 3 });
    try {
      return await collect(loader.trainEpoch(sampler, epoch, start));
    } finally {
      await loader.close();
    }
  };
  const ref = await run(0);
  assert.equal(ref.map((b) => b.shape[0]), [5, 5, 2]);
  for (const w of [1, 2]) {
    const got = await run(w);
    assert.is(got.length, ref.length);
    got.forEach((b, k) => {
      assert.equal(b.images, ref[k]!.images, `workers=${w} batch ${k}`);
      assert.equal(b.instanceIds, ref[k]!.instanceIds);
    });
  }
  const other = await run(0, 1);
  assert.not.equal(other[0]!.instanceIds, ref[0]!.instanceIds);
  const reseeded = await run(0, 0, 8);
  assert.equal(reseeded[0]!.instanceIds, ref[0]!.instanceIds, 'sampler seed unchanged');
  assert.not.equal(reseeded[0]!.images, ref[0]!.images, 'augmentation seed changed');
  const resumed = await run(2, 0, 7, 1);
  assert.equal(resumed.map((b) => b.index), [1, 2]);
  assert.equal(resumed[0]!.images, ref[1]!.images);
});

test('train batches: a last batch below the sampler\'s minBatchSize is not loaded', async () => {
  const ds = await ImageFolderDataset.open(folder);
  // 6 images, m = 1, batches of 5: the last batch would hold one image
  const sampler = new RASampler(ds.length, { batchSize: 5, seed: 3, minBatchSize: 2 });
  const loader = new DataLoader({ dataset: ds, transform: { kind: 'train', recipe: 'torch', size: 32 }, seed: 5, workers: 0 });
  const batches = await collect(loader.trainEpoch(sampler, 0));
  assert.equal(batches.map((b) => b.shape[0]), [5]);
  assert.equal([...batches[0]!.instanceIds], [...sampler.epochIndices(0).slice(0, 5)]);
  await loader.close();
});

test('more workers than CPU cores are capped at the core count, with one note per process', async () => {
  const ds = await ImageFolderDataset.open(folder);
  const notes: string[] = [];
  const asked = cpuCores() + 99_991;
  const options = { dataset: ds, transform: { kind: 'val', mode: 'square', size: 16 } as const, workers: asked, onNote: (m: string) => notes.push(m) };
  const a = new DataLoader(options);
  const b = new DataLoader(options); // a run's validation loader: no second note
  assert.equal([a.workers, b.workers], [cpuCores(), cpuCores()]);
  assert.is(notes.length, 1);
  assert.ok(notes[0]!.includes(`${asked} workers requested, using ${cpuCores()}`), notes[0]);
  assert.is(new DataLoader({ ...options, workers: 1 }).workers, 1, 'a count within the cores is kept');
  assert.is((await collect(a.evaluation({ batchSize: 6 })))[0]!.shape[0], 6, 'the capped loader works');
  await a.close();
  await b.close();
});

test('evaluation: square batches; rect groups consecutive equal sizes', async () => {
  const root = join(tmp.dir, 'rect');
  const sizes = [[64, 48], [64, 48], [64, 48], [48, 64], [48, 64], [64, 48]] as const;
  const names: string[] = [];
  for (const [k, [w, h]] of sizes.entries()) {
    names.push(`${k}.jpg`);
    await writeImage(join(root, `${k}.jpg`), gradient(w, h));
  }
  const ds = ImageListDataset.fromNames(root, names);
  const rect = new DataLoader({ dataset: ds, transform: { kind: 'val', mode: 'rect', size: 32 }, workers: 1 });
  const groups = await collect(rect.evaluation({ batchSize: 4 }));
  assert.equal(groups.map((b) => [...b.instanceIds]), [[0, 1, 2], [3, 4], [5]]);
  assert.equal(groups.map((b) => b.shape), [[3, 3, 24, 32], [2, 3, 32, 24], [1, 3, 24, 32]]);
  assert.equal(groups.map((b) => b.index), [0, 1, 2]);
  const single = await collect(rect.evaluation());
  assert.equal(single.map((b) => b.shape[0]), [1, 1, 1, 1, 1, 1]);
  const picked = await collect(rect.evaluation({ batchSize: 8, indices: [5, 0] }));
  assert.equal(picked.map((b) => [...b.instanceIds]), [[5, 0]]);
  await rect.close();
  const square = new DataLoader({ dataset: ds, transform: { kind: 'val', mode: 'square', size: 32 }, workers: 0 });
  const sq = await collect(square.evaluation({ batchSize: 4 }));
  assert.equal(sq.map((b) => b.shape), [[4, 3, 32, 32], [2, 3, 32, 32]]);
  assert.equal([...sq[1]!.labels], [-1, -1]);
});

test('unreadable images: error naming the file, or skipped with a warning and a count', async () => {
  const root = join(tmp.dir, 'bad');
  await writeImage(join(root, 'ok0.png'), gradient(40, 30));
  writeBytes(join(root, 'broken.jpg'), 'garbage');
  await writeImage(join(root, 'ok1.png'), gradient(40, 30));
  const ds = ImageListDataset.fromNames(root, ['ok0.png', 'broken.jpg', 'ok1.png']);
  for (const workers of [0, 1]) {
    const strict = new DataLoader({ dataset: ds, transform: { kind: 'val', mode: 'square', size: 16 }, workers });
    const err = await rejectsWith(collect(strict.evaluation({ batchSize: 3 })), /cannot decode image .*broken\.jpg/);
    assert.instance(err, ImageDecodeError);
    await strict.close();
    const warnings: string[] = [];
    const lenient = new DataLoader({
      dataset: ds, transform: { kind: 'val', mode: 'square', size: 16 }, workers, skipUnreadable: true,
      onSkip: (file, msg) => warnings.push(`${file}: ${msg}`),
    });
    const batches = await collect(lenient.evaluation({ batchSize: 3 }));
    assert.equal(batches.map((b) => [...b.instanceIds]), [[0, 2]]);
    assert.is(lenient.skipped, 1);
    assert.equal(lenient.skippedFiles, [join(root, 'broken.jpg')]);
    assert.is(warnings.length, 1);
    assert.match(warnings[0]!, /broken\.jpg/);
    await lenient.close();
  }
});

test('in-memory datasets (Fashion-MNIST) through worker threads', async () => {
  const fm = await FashionMnistDataset.open({ split: 'test' });
  const sampler = new RASampler(fm.length, { batchSize: 8, repetitions: 2, lengthFactor: 0.0016, seed: 2 });
  const mk = (workers: number) => new DataLoader({ dataset: fm, transform: { kind: 'train', recipe: 'torch', size: 28 }, workers, seed: 1 });
  const a = mk(2), b = mk(0);
  const [x, y] = [await collect(a.trainEpoch(sampler, 0)), await collect(b.trainEpoch(sampler, 0))];
  assert.equal(x.map((t) => t.shape), [[8, 3, 28, 28], [8, 3, 28, 28]]);
  assert.equal(x[1]!.images, y[1]!.images);
  assert.equal([...x[0]!.labels], [...x[0]!.instanceIds].map((i) => fm.labels[i]!));
  await a.close();
  await b.close();
});

test('an abandoned epoch does not disturb the next one (worker pool reused)', async () => {
  const ds = await ImageFolderDataset.open(folder);
  const sampler = new RASampler(ds.length, { batchSize: 3, repetitions: 1, lengthFactor: 2, seed: 4 });
  const loader = new DataLoader({ dataset: ds, transform: { kind: 'train', recipe: 'torch', size: 16 }, workers: 2, seed: 2 });
  for await (const b of loader.trainEpoch(sampler, 0)) {
    assert.is(b.index, 0);
    break;
  }
  const all = await collect(loader.trainEpoch(sampler, 0));
  assert.equal(all.map((b) => b.index), [0, 1, 2, 3]);
  const ref = new DataLoader({ dataset: ds, transform: { kind: 'train', recipe: 'torch', size: 16 }, workers: 0, seed: 2 });
  const want = await collect(ref.trainEpoch(sampler, 0));
  all.forEach((b, k) => assert.equal(b.images, want[k]!.images));
  await loader.close();
  await rejectsWith(collect(loader.trainEpoch(sampler, 0)), /closed/);
});

test('options are checked', async () => {
  const ds = await ImageFolderDataset.open(folder, { decoder: new NodeImageDecoder() });
  assert.throws(() => new DataLoader({ dataset: ds, transform: { kind: 'train', recipe: 'full', size: 32 }, workers: -1 }), /workers/);
  assert.throws(() => new DataLoader({ dataset: ds, transform: { kind: 'train', recipe: 'nope' as 'full', size: 32 } }), /unknown augmentation recipe/);
  const loader = new DataLoader({ dataset: ds, transform: { kind: 'train', recipe: 'full', size: 32 }, workers: 0 });
  assert.throws(() => loader.trainEpoch(new RASampler(7, { batchSize: 2 }), 0), /sampler is for 7 items, dataset has 6/);
  assert.ok(new DataLoader({ dataset: ds, transform: { kind: 'val', mode: 'rect', size: 8 } }).workers >= 1, 'default = available cores');
});

test.after(() => tmp.cleanup());
test.run();
