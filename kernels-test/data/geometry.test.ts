import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import {
  DataRng, centerCropBox, centerCropImage, cropImage, flipImageHorizontal, flipImageVertical, randomResizedCrop,
  randomResizedCropBox, resizeImageBilinear, rotateImageClockwise, roundHalfEven, validationRect, validationSquare, type CropBox,
} from '../../src/index.js';
import { gradient, makeImage, mean, near, px, std, throwsWith } from './helpers.js';

const tagged = (w: number, h: number) => makeImage(w, h, (x, y) => [x, y, (x * 7 + y * 3) % 256]);

test('roundHalfEven matches Python round()', () => {
  assert.equal([0.5, 1.5, 2.5, -0.5, -1.5, 2.4, 2.6, 3].map(roundHalfEven), [0, 2, 2, -0, -2, 2, 3, 3]);
});

test('crop copies the box, errors outside the image', () => {
  const img = tagged(10, 8);
  const c = cropImage(img, { top: 2, left: 3, height: 4, width: 5 });
  assert.is(c.width, 5);
  assert.is(c.height, 4);
  assert.equal(px(c, 0, 0), px(img, 3, 2));
  assert.equal(px(c, 4, 3), px(img, 7, 5));
  throwsWith(() => cropImage(img, { top: 5, left: 0, height: 4, width: 2 }), /not inside the 10x8/);
});

test('center crop offsets round half to even like torchvision', () => {
  assert.equal(centerCropBox(10, 10, 4, 4), { top: 3, left: 3, height: 4, width: 4 });
  // (9 - 4) / 2 = 2.5 -> 2 ; (11 - 4) / 2 = 3.5 -> 4
  assert.equal(centerCropBox(9, 11, 4, 4), { top: 4, left: 2, height: 4, width: 4 });
  const c = centerCropImage(tagged(9, 11), 4);
  assert.equal(px(c, 0, 0), [2, 4, (2 * 7 + 4 * 3) % 256]);
  throwsWith(() => centerCropBox(3, 3, 4, 4), /does not fit/);
});

test('flips mirror pixels', () => {
  const img = tagged(5, 3);
  const h = flipImageHorizontal(img);
  const v = flipImageVertical(img);
  for (let y = 0; y < 3; y++) for (let x = 0; x < 5; x++) {
    assert.equal(px(h, x, y), px(img, 4 - x, y));
    assert.equal(px(v, x, y), px(img, x, 2 - y));
  }
  assert.equal(flipImageHorizontal(h).data, img.data);
});

test('rotateImageClockwise: quarter turns move corners as PIL rotate(-angle, expand=True)', () => {
  const img = tagged(4, 3);
  const r90 = rotateImageClockwise(img, 90);
  assert.equal([r90.width, r90.height], [3, 4]);
  // Clockwise: the top-left pixel goes to the top-right corner; the bottom-left to top-left.
  assert.equal(px(r90, 2, 0), px(img, 0, 0));
  assert.equal(px(r90, 0, 0), px(img, 0, 2));
  assert.equal(px(r90, 0, 3), px(img, 3, 2));
  const r270 = rotateImageClockwise(img, 270);
  assert.equal(px(r270, 0, 3), px(img, 0, 0));
  const r180 = rotateImageClockwise(img, 180);
  assert.equal(px(r180, 3, 2), px(img, 0, 0));
  assert.equal(rotateImageClockwise(rotateImageClockwise(r90, 180), 90).data, img.data);
  throwsWith(() => rotateImageClockwise(img, 45), /multiple of 90/);
});

test('resize: an output too large for any GPU tensor names --input-size (no RangeError)', () => {
  const g = gradient(28, 28);
  throwsWith(() => resizeImageBilinear(g, 100000, 100000), /100000x100000 .*more than one GPU tensor can hold.*--input-size/);
  // the whole validation pipeline (square: resize + crop; rect: longest side) says the same
  throwsWith(() => validationSquare(g, 100000), /--input-size/);
  throwsWith(() => validationRect(g, 100000), /--input-size/);
});

test('resize: constant stays constant, same size is identity, sizes exact', () => {
  const flat = makeImage(37, 23, () => [10, 200, 77]);
  for (const [w, h] of [[5, 3], [100, 60], [37, 23], [1, 1]]) {
    const r = resizeImageBilinear(flat, w!, h!);
    assert.is(r.width, w);
    assert.is(r.height, h);
    assert.ok(r.data.every((v, i) => v === [10, 200, 77][i % 3]), `${w}x${h}`);
  }
  const g = gradient(20, 10);
  assert.equal(resizeImageBilinear(g, 20, 10).data, g.data);
});

test('resize: 2x downscale averages 2x2 blocks (antialiased), upscale interpolates', () => {
  // Checkerboard of 0/200: a box-like average gives 100 everywhere inside.
  const checker = makeImage(16, 16, (x, y) => ((x + y) % 2 ? [200, 200, 200] : [0, 0, 0]));
  const small = resizeImageBilinear(checker, 8, 8);
  const inner: number[] = [];
  for (let y = 1; y < 7; y++) for (let x = 1; x < 7; x++) inner.push(px(small, x, y)[0]);
  assert.ok(inner.every((v) => v === 100), `inner values ${inner}`);
  // Upscale of a 2-pixel ramp: values between the two ends, monotone.
  const ramp = makeImage(2, 1, (x) => [x * 80, 0, 0]);
  const up = resizeImageBilinear(ramp, 8, 1);
  const row = Array.from({ length: 8 }, (_, x) => px(up, x, 0)[0]);
  assert.equal(row, [0, 0, 10, 30, 50, 70, 80, 80]);
});

test('resize equals PIL to the byte (torchvision\'s crop + resize of PIL images): fixtures of tools/gen_resize_fixtures.py', async () => {
  const fixture = JSON.parse(readFileSync(join(process.cwd(), 'kernels-test/data/fixtures/pil_resize.json'), 'utf8')) as {
    source: string; cases: { box: CropBox; out: [number, number]; sha256: string; head: number[] }[];
  };
  // sharp decodes the JPEG to PIL's pixels exactly (pil-decode.test.ts)
  const { data, info } = await sharp(join(process.cwd(), fixture.source)).raw().toBuffer({ resolveWithObject: true });
  const img = { width: info.width, height: info.height, data: new Uint8Array(data) };
  for (const c of fixture.cases) {
    for (const simd of [true, false]) {
      const got = resizeImageBilinear(img, c.out[0], c.out[1], c.box, { simd }).data;
      const what = `${JSON.stringify(c.box)} -> ${c.out.join('x')}, simd ${simd}`;
      assert.equal(Array.from(got.subarray(0, 48)), c.head, what);
      assert.is(createHash('sha256').update(got).digest('hex'), c.sha256, what);
    }
  }
});

test('resize: the WebAssembly SIMD passes and the JS passes give the same bytes (random boxes, up- and downscales, 1-pixel sides, identity axes)', () => {
  const rng = new DataRng(12);
  for (let k = 0; k < 200; k++) {
    const w = rng.intInclusive(1, 300), h = rng.intInclusive(1, 200);
    const img = makeImage(w, h, (x, y) => [(x * 7 + y * 3 + k) % 256, (x * y + 11 * k) % 256, rng.intInclusive(0, 255)]);
    const bw = rng.intInclusive(1, w), bh = rng.intInclusive(1, h);
    const box = { left: rng.intInclusive(0, w - bw), top: rng.intInclusive(0, h - bh), width: bw, height: bh };
    const ow = k % 7 === 0 ? bw : rng.intInclusive(1, 160), oh = k % 11 === 0 ? bh : rng.intInclusive(1, 160);
    const what = `${JSON.stringify(box)} of ${w}x${h} -> ${ow}x${oh}`;
    assert.equal(resizeImageBilinear(img, ow, oh, box).data, resizeImageBilinear(img, ow, oh, box, { simd: false }).data, what);
  }
});

test('resize of a box equals crop then resize (no pixels outside the box)', () => {
  const img = tagged(40, 30);
  const box = { top: 5, left: 7, height: 17, width: 23 };
  assert.equal(resizeImageBilinear(img, 11, 9, box).data, resizeImageBilinear(cropImage(img, box), 11, 9).data);
});

test('RandomResizedCrop box: inside the image, area and aspect ranges, deterministic', () => {
  const rng = new DataRng(3);
  const areas: number[] = [];
  const logRatios: number[] = [];
  for (let i = 0; i < 3000; i++) {
    const b = randomResizedCropBox(500, 375, rng);
    assert.ok(b.top >= 0 && b.left >= 0 && b.top + b.height <= 375 && b.left + b.width <= 500, JSON.stringify(b));
    areas.push((b.width * b.height) / (500 * 375));
    logRatios.push(Math.log(b.width / b.height));
  }
  assert.ok(Math.min(...areas) >= 0.07 && Math.max(...areas) <= 1.0);
  // Uniform in [0.08, 1] would average 0.54; large boxes with extreme aspect do not fit 500x375
  // and are redrawn, so accepted areas average about 0.44.
  near(mean(areas), 0.44, 0.03, 'mean area fraction');
  assert.ok(Math.min(...logRatios) >= Math.log(3 / 4) - 0.05 && Math.max(...logRatios) <= Math.log(4 / 3) + 0.05);
  assert.ok(mean(logRatios) > 0, 'a landscape image accepts wide boxes more often');
  const square = Array.from({ length: 3000 }, () => {
    const b = randomResizedCropBox(400, 400, rng);
    return Math.log(b.width / b.height);
  });
  near(mean(square), 0, 0.015, 'log aspect centered on a square image');
  near(std(square), (Math.log(4 / 3) * 2) / Math.sqrt(12), 0.02, 'log-uniform aspect spread');
  assert.equal(randomResizedCropBox(500, 375, new DataRng(8)), randomResizedCropBox(500, 375, new DataRng(8)));
});

test('RandomResizedCrop fallback: center crop clamped to the ratio range', () => {
  // 1000x10: no box with aspect <= 4/3 and area >= 8% fits; fallback h = 10, w = round(10 * 4/3) = 13.
  assert.equal(randomResizedCropBox(1000, 10, new DataRng(1)), { top: 0, left: 493, height: 10, width: 13 });
  assert.equal(randomResizedCropBox(10, 1000, new DataRng(1)), { top: 493, left: 0, height: 13, width: 10 });
  // scale > 1 never fits: whole image (aspect in range) is the fallback.
  assert.equal(randomResizedCropBox(100, 90, new DataRng(1), { scale: [1.5, 2] }), { top: 0, left: 0, height: 90, width: 100 });
});

test('RandomResizedCrop output is size x size and comes from the image', () => {
  const img = makeImage(60, 40, (x) => [x < 30 ? 0 : 255, 0, 0]);
  const out = randomResizedCrop(img, 24, new DataRng(5));
  assert.is(out.width, 24);
  assert.is(out.height, 24);
  assert.ok(out.data.every((v, i) => i % 3 !== 1 || v === 0));
});

test.run();
