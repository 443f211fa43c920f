// TurboJPEG (src/data/turbo-jpeg.ts): installed with the optional dependencies on this
// platform; its pixels are sharp's (and PIL's) to the bit for the JPEG kinds photos come in;
// data it does not decode cleanly (CMYK, truncated, not a JPEG) gives null, so that sharp's
// handling applies; and the Node decoder's crop path through it is the PIL-exact CPU resize
// of sharp's pixels, exactly.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import {
  DataLoader, DataRng, ImageListDataset, NodeImageDecoder, RASampler, loadTurboJpeg, randomResizedCropBox, resizeImageBilinear, type CropBox, type HostBatch,
} from '../../src/index.js';

const fixtures = join(process.cwd(), 'kernels-test/fixtures/images');
const chelsea = new Uint8Array(readFileSync(join(fixtures, 'chelsea.jpg')));
const rocket = new Uint8Array(readFileSync(join(fixtures, 'rocket.jpg')));

async function sharpRgb(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await sharp(bytes).toColourspace('srgb').removeAlpha().raw().toBuffer());
}

async function kinds(): Promise<[string, Uint8Array][]> {
  const bytes = async (p: sharp.Sharp) => new Uint8Array(await p.toBuffer());
  return [
    ['chelsea.jpg', chelsea], ['rocket.jpg', rocket],
    ['progressive', await bytes(sharp(chelsea).jpeg({ progressive: true, quality: 80 }))],
    ['4:4:4', await bytes(sharp(rocket).jpeg({ chromaSubsampling: '4:4:4', quality: 95 }))],
    ['odd size 4:2:0', await bytes(sharp(chelsea).resize(123, 77).jpeg({ quality: 70 }))],
    ['grayscale', await bytes(sharp(chelsea).greyscale().jpeg())],
  ];
}

test('installed here (linux x64), and the pixels of every JPEG kind are sharp\'s exactly', async () => {
  const turbo = await loadTurboJpeg();
  if (process.platform === 'linux' && process.arch === 'x64') assert.ok(turbo, 'TurboJPEG should load from the optional dependencies');
  if (!turbo) return;
  for (const [name, bytes] of await kinds()) {
    const img = turbo.decode(bytes);
    assert.ok(img, name);
    const meta = await sharp(bytes).metadata();
    assert.equal([img!.width, img!.height], [meta.width, meta.height], name);
    assert.equal(turbo.size(bytes), [meta.width, meta.height], name);
    const want = await sharpRgb(bytes);
    assert.ok(Buffer.compare(Buffer.from(img!.data), Buffer.from(want)) === 0, `${name}: pixels differ from sharp's`);
  }
});

test('CMYK, truncated and non-JPEG data give null (sharp decides), and a small buffer is not written past', async () => {
  const turbo = await loadTurboJpeg();
  if (!turbo) return;
  const cmyk = new Uint8Array(await sharp(rocket).toColourspace('cmyk').jpeg().toBuffer());
  assert.is(turbo.decode(cmyk), null, 'cmyk');
  assert.is(turbo.decode(chelsea.subarray(0, Math.floor(chelsea.length / 2))), null, 'truncated');
  assert.is(turbo.decode(new Uint8Array(readFileSync(join(fixtures, 'astronaut.png')))), null, 'png');
  assert.is(turbo.size(new Uint8Array([0xff, 0xd8, 0xff])), null, 'header only');
  const small = new Uint8Array(10).fill(7);
  const img = turbo.decode(chelsea, () => small);
  assert.ok(img && img.data.buffer !== small.buffer && small.every((v) => v === 7));
});

test('the decoder: crops through TurboJPEG are the CPU resize of sharp\'s pixels; whole images are sharp\'s; damaged files still go to sharp', async () => {
  if (!(await loadTurboJpeg())) return;
  const decoder = new NodeImageDecoder();
  const whole = { width: 451, height: 300, data: await sharpRgb(chelsea) };
  for (let k = 0; k < 6; k++) {
    let box: CropBox | undefined;
    const rng = DataRng.derive(5, 0, k);
    const got = await decoder.decodeCropResized(chelsea, (w, h) => (box = randomResizedCropBox(w, h, rng)), 64, 48, { autoOrient: false });
    assert.equal(got, resizeImageBilinear(whole, 64, 48, box), `crop ${k}`);
  }
  assert.equal((await decoder.decode(chelsea, { autoOrient: false })).data, whole.data);
  const warnings: string[] = [];
  const cut = await decoder.decode(chelsea.subarray(0, Math.floor(chelsea.length * 0.7)), { autoOrient: false, allowTruncated: true, onWarning: (m) => warnings.push(m) });
  assert.equal([cut.width, cut.height], [451, 300]);
  assert.is(warnings.length, 1);
});

test('the loader: with TurboJPEG, crop on decode gives the whole-image path\'s batches exactly (workers and the calling thread alike)', async () => {
  if (!(await loadTurboJpeg())) return;
  const dir = mkdtempSync(join(tmpdir(), 'mg-turbo-'));
  try {
    writeFileSync(join(dir, 'a.jpg'), chelsea);
    writeFileSync(join(dir, 'b.jpg'), rocket);
    writeFileSync(join(dir, 'c.jpg'), await sharp(chelsea).resize(200, 301).jpeg({ progressive: true }).toBuffer());
    const ds = ImageListDataset.fromNames(dir, ['a.jpg', 'b.jpg', 'c.jpg']);
    const run = async (cropOnDecode: boolean, workers: number, gpuAugment: boolean): Promise<HostBatch[]> => {
      const loader = new DataLoader({ dataset: ds, transform: { kind: 'train', recipe: 'full', size: 40, cropOnDecode }, workers, seed: 4, gpuAugment });
      const sampler = new RASampler(ds.length, { batchSize: 4, repetitions: 2, lengthFactor: 3, seed: 2 });
      const out: HostBatch[] = [];
      try {
        for await (const b of loader.trainEpoch(sampler, 0)) out.push(b);
      } finally {
        await loader.close();
      }
      return out;
    };
    for (const gpuAugment of [false, true]) {
      const want = await run(false, 0, gpuAugment);
      for (const workers of [0, 2]) {
        const got = await run(true, workers, gpuAugment);
        assert.is(got.length, want.length);
        got.forEach((b, k) => {
          if (gpuAugment) assert.equal(b.gpu!.pixels, want[k]!.gpu!.pixels, `gpuAugment batch ${k}, ${workers} workers`);
          else assert.equal(b.images, want[k]!.images, `batch ${k}, ${workers} workers`);
        });
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
