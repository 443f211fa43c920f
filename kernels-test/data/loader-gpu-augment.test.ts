// The loader's gpuAugment batches: uint8 crops + colour draws, identical whatever the worker
// count (the workers' buffers are transferred), and, through augmentImages, the CPU loader's
// float batch for the same seed (same draws; f32 factors on the GPU may cross an 8-bit
// truncation boundary now and then, so: almost all values exact, none off by more than a level).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import {
  init, tensor, augmentImages, AUGMENT_PARAMS_PER_IMAGE, DataLoader, ImageFolderDataset, RASampler, type HostBatch, type TransformSpec,
} from '../../src/index.js';
import { makeImage, tempDir, writeImage } from './helpers.js';

const test = suite('loader-gpu-augment');
const tmp = tempDir();
const folder = join(tmp.dir, 'folder');

test.before(async () => {
  await init();
  for (let i = 0; i < 6; i++) {
    await writeImage(join(folder, `${i < 3 ? 'cat' : 'dog'}/${i}.jpg`), makeImage(64, 48, (x, y) => [(x * 4 + i * 30) % 256, (y * 5 + x * x) % 256, (i * 40 + x * y) % 256]));
  }
});

async function epoch(spec: TransformSpec, workers: number, gpuAugment: boolean): Promise<HostBatch[]> {
  const ds = await ImageFolderDataset.open(folder);
  const sampler = new RASampler(ds.length, { batchSize: 4, repetitions: 2, lengthFactor: 2, seed: 3 });
  const loader = new DataLoader({ dataset: ds, transform: spec, seed: 11, workers, gpuAugment });
  try {
    const out: HostBatch[] = [];
    for await (const b of loader.trainEpoch(sampler, 0)) out.push(b);
    return out;
  } finally {
    await loader.close();
  }
}

test('uint8 batches: deterministic whatever the worker count, and the CPU batches once augmented on the GPU', async () => {
  for (const recipe of ['full', 'torch'] as const) {
    const spec: TransformSpec = { kind: 'train', recipe, size: 32 };
    const ref = await epoch(spec, 0, true);
    assert.is(ref.length, 3);
    for (const workers of [1, 2]) {
      const got = await epoch(spec, workers, true);
      got.forEach((b, k) => {
        assert.equal(b.gpu!.pixels, ref[k]!.gpu!.pixels, `${recipe} workers=${workers} batch ${k} pixels`);
        assert.equal(b.gpu!.params, ref[k]!.gpu!.params, `${recipe} workers=${workers} batch ${k} params`);
        assert.equal(b.instanceIds, ref[k]!.instanceIds);
      });
    }
    const cpu = await epoch(spec, 2, false);
    for (const [k, b] of ref.entries()) {
      const [n, , h, w] = b.shape;
      assert.is(b.images.length, 0);
      assert.is(b.gpu!.pixels.length, Math.ceil((n * h * w * 3) / 4));
      const x = await augmentImages(tensor(b.gpu!.pixels, undefined, 'u32'), tensor(b.gpu!.params, [n, AUGMENT_PARAMS_PER_IMAGE]), h, w, b.gpu!.colour).toArray();
      const want = cpu[k]!.images;
      let exact = 0, max = 0;
      for (let i = 0; i < want.length; i++) {
        const d = Math.abs(x[i]! - want[i]!);
        if (d <= 1e-5) exact++;
        max = Math.max(max, d);
      }
      assert.ok(exact / want.length >= 0.995 && max <= 1.5 / 255 / 0.224 / 1.1, `${recipe} batch ${k}: exact share ${exact / want.length}, max ${max}`);
    }
  }
});

test('gpuAugment is refused for validation specs and function transforms', async () => {
  const ds = await ImageFolderDataset.open(folder);
  assert.throws(() => new DataLoader({ dataset: ds, transform: { kind: 'val', mode: 'square', size: 32 }, gpuAugment: true }), /gpuAugment needs a training transform spec/);
  assert.throws(() => new DataLoader({ dataset: ds, transform: (img) => ({ channels: 3, width: img.width, height: img.height, data: new Float32Array(0) }), gpuAugment: true }), /gpuAugment/);
});

test.run();
