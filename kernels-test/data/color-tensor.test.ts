import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  DataRng, IMAGENET_MEAN, IMAGENET_PCA_EIGVAL, IMAGENET_PCA_EIGVEC, IMAGENET_STD, adjustBrightness, adjustContrast,
  adjustSaturation, adjustSharpness, applyColorJitter, applyLighting, clampChw, colorJitter, colorJitterParams, flipImageHorizontal,
  lightingOffset, pilLuma, meanLuma, normalizeChw, randomResizedCrop, rgbToChw,
} from '../../src/index.js';
import { gradient, makeImage, mean, near, px, std } from './helpers.js';

test('pilLuma is PIL convert("L")', () => {
  assert.is(pilLuma(255, 0, 0), 76);
  assert.is(pilLuma(0, 255, 0), 150);
  assert.is(pilLuma(0, 0, 255), 29);
  assert.is(pilLuma(255, 255, 255), 255);
  assert.is(pilLuma(200, 100, 50), 124);
});

test('brightness scales and clips; factor 1 is identity', () => {
  const img = makeImage(1, 1, () => [100, 50, 200]);
  assert.equal(px(adjustBrightness(img, 1.5), 0, 0), [150, 75, 255]);
  assert.equal(px(adjustBrightness(img, 0.5), 0, 0), [50, 25, 100]);
  assert.equal(adjustBrightness(img, 1).data, img.data);
});

test('contrast blends with the rounded mean luma', () => {
  const img = makeImage(2, 1, (x) => (x ? [255, 255, 255] : [0, 0, 0]));
  assert.is(meanLuma(img), 128);
  assert.equal([...adjustContrast(img, 0).data], [128, 128, 128, 128, 128, 128]);
  assert.equal([...adjustContrast(img, 2).data], [0, 0, 0, 255, 255, 255]);
  assert.equal([...adjustContrast(img, 0.5).data], [64, 64, 64, 191, 191, 191]);
});

test('saturation blends with the luma image', () => {
  assert.equal(px(adjustSaturation(makeImage(1, 1, () => [255, 0, 0]), 0), 0, 0), [76, 76, 76]);
  assert.equal(px(adjustSaturation(makeImage(1, 1, () => [200, 100, 50]), 2), 0, 0), [255, 76, 0]);
  const g = gradient(9, 7);
  assert.equal(adjustSaturation(g, 1).data, g.data);
});

test('sharpness: factor 1 identity, 0 smooths the interior, borders kept', () => {
  const img = makeImage(5, 5, (x, y) => (x === 2 && y === 2 ? [130, 130, 130] : [0, 0, 0]));
  assert.equal(adjustSharpness(img, 1).data, img.data);
  const s = adjustSharpness(img, 0);
  assert.is(px(s, 2, 2)[0], 50); // 5 * 130 / 13
  assert.is(px(s, 1, 1)[0], 10); // 130 / 13
  assert.is(px(s, 0, 0)[0], 0);
});

test('ColorJitter: factors in [1-s, 1+s], every order occurs, strength 0 is identity', () => {
  const rng = new DataRng(17);
  const orders = new Set<string>();
  const fs: number[] = [];
  for (let i = 0; i < 600; i++) {
    const p = colorJitterParams(rng, { brightness: 0.3, contrast: 0.3, saturation: 0.3 });
    orders.add(p.order.join(','));
    fs.push(p.factors.brightness!, p.factors.contrast!, p.factors.saturation!);
  }
  assert.is(orders.size, 6);
  assert.ok(fs.every((f) => f >= 0.7 && f <= 1.3));
  near(mean(fs), 1, 0.01, 'mean factor');
  near(std(fs), 0.6 / Math.sqrt(12), 0.01, 'factor spread');
  const img = gradient(8, 8);
  const r = new DataRng(1);
  const before = r.getState();
  assert.equal(colorJitter(img, r, {}).data, img.data);
  assert.equal(r.getState(), before);
  // The order matters and is honoured.
  const dark = makeImage(2, 1, (x) => (x ? [250, 10, 10] : [10, 10, 250]));
  const a = applyColorJitter(dark, { order: ['brightness', 'contrast'], factors: { brightness: 1.3, contrast: 0.7 } });
  const b = applyColorJitter(dark, { order: ['contrast', 'brightness'], factors: { brightness: 1.3, contrast: 0.7 } });
  assert.equal(a.data, adjustContrast(adjustBrightness(dark, 1.3), 0.7).data);
  assert.not.equal(a.data, b.data);
});

test('ToTensor: CHW planes in [0, 1]', () => {
  const img = makeImage(3, 2, (x, y) => [x * 100, y * 255, 51]);
  const t = rgbToChw(img);
  assert.equal([t.channels, t.height, t.width], [3, 2, 3]);
  const at = (c: number, y: number, x: number) => t.data[(c * 2 + y) * 3 + x]!;
  near(at(0, 1, 2), 200 / 255, 1e-7);
  near(at(1, 1, 0), 1, 1e-7);
  near(at(2, 0, 1), 0.2, 1e-7);
});

test('PCA lighting: offset = eigvec * (alpha * eigval), then / 1.1', () => {
  const off = lightingOffset([1, 0, 0]);
  for (let c = 0; c < 3; c++) near(off[c]!, IMAGENET_PCA_EIGVEC[c]![0]! * IMAGENET_PCA_EIGVAL[0]!, 1e-12);
  const off2 = lightingOffset([0.1, -0.2, 0.3]);
  near(off2[0], -0.5675 * 0.1 * 0.2175 + 0.7192 * -0.2 * 0.0188 + 0.4009 * 0.3 * 0.0045, 1e-12);
  const img = rgbToChw(makeImage(4, 4, () => [128, 128, 128]));
  const alpha = applyLighting(img, new DataRng(2), 0.1);
  const o = lightingOffset(alpha);
  for (let c = 0; c < 3; c++) near(img.data[c * 16 + 5]!, (128 / 255 + o[c]!) / 1.1, 1e-6, `channel ${c}`);
  // alpha ~ N(0, 0.1)
  const r = new DataRng(3);
  const alphas = Array.from({ length: 3000 }, () => applyLighting(rgbToChw(makeImage(1, 1, () => [0, 0, 0])), r, 0.1)).flat();
  near(mean(alphas), 0, 0.006, 'alpha mean');
  near(std(alphas), 0.1, 0.005, 'alpha std');
  const same = rgbToChw(makeImage(2, 2, () => [9, 9, 9]));
  const copy = same.data.slice();
  applyLighting(same, new DataRng(1), 0);
  assert.equal(same.data, copy);
});

test('clamp and ImageNet normalize', () => {
  const t = { channels: 3, height: 1, width: 2, data: new Float32Array([-0.5, 0.485, 0.456, 2, 0.406, 1]) };
  clampChw(t);
  assert.equal([...t.data], [0, 0.48500001430511475, 0.4560000002384186, 1, 0.4059999883174896, 1]);
  normalizeChw(t);
  near(t.data[0]!, -IMAGENET_MEAN[0] / IMAGENET_STD[0], 1e-6);
  near(t.data[1]!, 0, 1e-6);
  near(t.data[2]!, 0, 1e-6);
  near(t.data[3]!, (1 - 0.456) / 0.224, 1e-6);
  near(t.data[5]!, (1 - 0.406) / 0.225, 1e-6);
});

test('the "full" steps compose: RRC, flip, jitter, ToTensor, lighting, clamp, normalize', () => {
  // Hand-built composition with the same generator = the library's fused recipe (checked in pipelines tests).
  const img = gradient(50, 40);
  const rng = new DataRng(4);
  let x = randomResizedCrop(img, 16, rng);
  if (rng.random() < 0.5) x = flipImageHorizontal(x);
  x = colorJitter(x, rng, { brightness: 0.3, contrast: 0.3, saturation: 0.3 });
  const t = rgbToChw(x);
  applyLighting(t, rng, 0.1);
  clampChw(t);
  normalizeChw(t);
  assert.is(t.data.length, 3 * 16 * 16);
  const lo = Math.min(...t.data), hi = Math.max(...t.data);
  assert.ok(lo >= -0.485 / 0.229 - 1e-5 && hi <= (1 - 0.406) / 0.225 + 1e-5, `${lo} ${hi}`);
});

test.run();
