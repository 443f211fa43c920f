import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import {
  DataLoader, ImageListDataset, NodeImageDecoder, headerImageSize, RASampler, cropImage, resizeImageBilinear, type CropBox, type HostBatch,
} from '../../src/index.js';
import { tempDir } from './helpers.js';

const fixtures = join(process.cwd(), 'kernels-test/fixtures/images');
const chelsea = join(fixtures, 'chelsea.jpg'); // 451 x 300
// libvips' crop path (TurboJPEG, which JPEGs take by default, is tested in turbo-jpeg.test.ts)
const decoder = new NodeImageDecoder({ turboJpeg: false });
const tmp = tempDir();

/** Mean |a - b| and mean (a - b) over two byte arrays. */
function diffStats(a: ArrayLike<number>, b: ArrayLike<number>): { abs: number; signed: number } {
  let abs = 0, signed = 0;
  for (let i = 0; i < a.length; i++) {
    abs += Math.abs(a[i]! - b[i]!);
    signed += a[i]! - b[i]!;
  }
  return { abs: abs / a.length, signed: signed / a.length };
}

test('headerImageSize reads JPEG (baseline, progressive, with EXIF) and PNG headers as sharp does; null otherwise', async () => {
  const progressive = new Uint8Array(await sharp(join(fixtures, 'rocket.jpg')).withMetadata({ orientation: 3 }).jpeg({ progressive: true }).toBuffer());
  const cases: [string, Uint8Array][] = [
    ['chelsea.jpg', new Uint8Array(readFileSync(chelsea))], ['rocket.jpg', new Uint8Array(readFileSync(join(fixtures, 'rocket.jpg')))],
    ['astronaut.png', new Uint8Array(readFileSync(join(fixtures, 'astronaut.png')))], ['progressive+exif', progressive],
  ];
  for (const [name, bytes] of cases) {
    const meta = await sharp(bytes).metadata();
    assert.equal(headerImageSize(bytes), [meta.width, meta.height], name);
  }
  assert.is(headerImageSize(new Uint8Array(readFileSync(join(fixtures, 'coffee.webp')))), null);
  assert.is(headerImageSize(new Uint8Array([0xff, 0xd8, 0xff, 0xd9, 0, 0, 0, 0, 0, 0, 0, 0])), null);
  assert.is(headerImageSize(new Uint8Array(40)), null);
});

test('the box comes from the header size, once; an unresized box is the exact crop of the full decode', async () => {
  const full = await decoder.decode(chelsea, { autoOrient: false });
  const sizes: [number, number][] = [];
  const box: CropBox = { top: 37, left: 101, height: 90, width: 120 };
  const crop = await decoder.decodeCropResized(chelsea, (w, h) => { sizes.push([w, h]); return box; }, 120, 90, { autoOrient: false });
  assert.equal(sizes, [[451, 300]]);
  assert.equal([crop.width, crop.height], [120, 90]);
  assert.equal(crop.data, cropImage(full, box).data);
});

test('shrunk boxes stay close to the PIL-exact CPU resize (unbiased); enlarged ones are exact', async () => {
  const full = await decoder.decode(chelsea, { autoOrient: false });
  const boxes: CropBox[] = [
    { top: 0, left: 0, height: 300, width: 451 }, { top: 20, left: 40, height: 250, width: 300 },
    { top: 5, left: 300, height: 150, width: 120 }, { top: 200, left: 10, height: 64, width: 200 },
  ];
  let abs = 0, signed = 0;
  for (const box of boxes) {
    const got = await decoder.decodeCropResized(new Uint8Array(readFileSync(chelsea)), () => box, 64, 64, { autoOrient: false });
    const want = resizeImageBilinear(full, 64, 64, box);
    const s = diffStats(got.data, want.data);
    assert.ok(s.abs < 3, `box ${JSON.stringify(box)}: mean |diff| ${s.abs.toFixed(2)} levels`);
    abs += s.abs / boxes.length;
    signed += s.signed / boxes.length;
  }
  assert.ok(abs < 2, `mean |diff| ${abs.toFixed(2)} levels`);
  assert.ok(Math.abs(signed) < 0.5, `mean diff ${signed.toFixed(2)} levels (a bias)`);
  for (const box of [{ top: 100, left: 200, height: 60, width: 80 }, { top: 0, left: 0, height: 300, width: 40 }]) {
    const got = await decoder.decodeCropResized(chelsea, () => box, 64, 64, { autoOrient: false });
    assert.equal(got.data, resizeImageBilinear(full, 64, 64, box).data, `enlarged box ${JSON.stringify(box)}`);
  }
});

test('EXIF orientation: the box is drawn in oriented coordinates where asked', async () => {
  const path = join(tmp.dir, 'rot.jpg');
  await sharp(chelsea).withMetadata({ orientation: 6 }).jpeg({ quality: 95 }).toFile(path);
  const seen: [number, number][] = [];
  const plan = (w: number, h: number): CropBox => { seen.push([w, h]); return { top: 0, left: 0, height: h, width: w }; };
  const oriented = await decoder.decodeCropResized(path, plan, 30, 45, { autoOrient: true });
  await decoder.decodeCropResized(path, plan, 45, 30, { autoOrient: false });
  assert.equal(seen, [[300, 451], [451, 300]]);
  const ref = resizeImageBilinear(await decoder.decode(path, { autoOrient: true }), 30, 45);
  assert.ok(diffStats(oriented.data, ref.data).abs < 4, 'oriented pixels');
});

test('a truncated file falls back to the lenient decode and the CPU resize of the same box', async () => {
  const path = join(tmp.dir, 'cut.jpg');
  const bytes = readFileSync(chelsea);
  writeFileSync(path, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
  const warnings: string[] = [];
  let calls = 0;
  const box: CropBox = { top: 190, left: 10, height: 100, width: 100 }; // rows past the cut
  const img = await decoder.decodeCropResized(path, () => { calls++; return box; }, 50, 50, { allowTruncated: true, onWarning: (m) => warnings.push(m) });
  assert.equal([img.width, img.height, calls], [50, 50, 1]);
  assert.is(warnings.length, 1);
  assert.ok(warnings[0]!.includes('truncated'), warnings[0]);
});

test('loader: crop on decode keeps the draws (flip, jitter) and stays close to the CPU path', async () => {
  const dir = join(tmp.dir, 'photos');
  const names: string[] = [];
  for (const [i, f] of ['chelsea.jpg', 'rocket.jpg', 'coffee.webp'].entries()) {
    names.push(`p${i}.jpg`);
    await sharp(join(fixtures, f)).jpeg({ quality: 92 }).toFile(join(dir, `p${i}.jpg`)).catch(async () => {
      const { mkdirSync } = await import('node:fs');
      mkdirSync(dir, { recursive: true });
      await sharp(join(fixtures, f)).jpeg({ quality: 92 }).toFile(join(dir, `p${i}.jpg`));
    });
  }
  const ds = ImageListDataset.fromNames(dir, names);
  const sampler = new RASampler(ds.length, { batchSize: 6, repetitions: 1, lengthFactor: 4, seed: 1 });
  const run = async (cropOnDecode: boolean, workers: number): Promise<HostBatch[]> => {
    const loader = new DataLoader({ dataset: ds, transform: { kind: 'train', recipe: 'full', size: 48, cropOnDecode }, workers, seed: 3 });
    const out: HostBatch[] = [];
    for await (const b of loader.trainEpoch(sampler, 0)) out.push(b);
    await loader.close();
    return out;
  };
  const fast = await run(true, 0);
  const exact = await run(false, 0);
  const fastWorkers = await run(true, 2);
  assert.is(fast.length, exact.length);
  fast.forEach((b, k) => {
    assert.equal(fastWorkers[k]!.images, b.images, 'deterministic whatever the worker count');
    assert.equal(b.shape, exact[k]!.shape);
    // normalized units: one 8-bit level is about 1 / (255 * 0.225) = 0.017
    const s = diffStats(b.images, exact[k]!.images);
    assert.ok(s.abs < 0.06, `batch ${k}: mean |diff| ${s.abs.toFixed(3)}`);
    assert.ok(Math.abs(s.signed) < 0.01, `batch ${k}: mean diff ${s.signed.toFixed(4)}`);
  });
});

test.after(() => tmp.cleanup());
test.run();
