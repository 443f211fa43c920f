import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  AUTOAUGMENT_IMAGENET_POLICY, AUTOAUGMENT_MAGNITUDES, AUTOAUGMENT_OPS, DataRng, applyAutoAugmentOp, applyAutoAugmentSubPolicy,
  autoAugmentImageNet, autocontrastImage, equalizeImage, invertImage, posterizeImage, solarizeImage,
} from '../../src/index.js';
import { gradient, makeImage, near, px } from './helpers.js';

test('policy table: 24 sub-policies of two steps, the release rows, duplicates kept', () => {
  const P = AUTOAUGMENT_IMAGENET_POLICY;
  assert.is(P.length, 24);
  assert.ok(P.every((sp) => sp.length === 2));
  assert.equal(P[0], [{ op: 'posterize', level: 8, prob: 0.4 }, { op: 'rotate', level: 9, prob: 0.6 }]);
  assert.equal(P[18], [{ op: 'shearX', level: 5, prob: 0.6 }, { op: 'equalize', level: 9, prob: 1.0 }]);
  assert.equal(P[12]![0], { op: 'equalize', level: 7, prob: 0.0 });
  assert.equal(P[20], P[4]);
  assert.equal(P[21], P[1]);
  assert.equal(P[22], P[13]);
  assert.equal(P[23], P[14]);
  const used = new Set(P.flatMap((sp) => sp.map((s) => s.op)));
  assert.equal([...used].sort(), ['autocontrast', 'color', 'contrast', 'equalize', 'invert', 'posterize', 'rotate', 'sharpness', 'shearX', 'solarize']);
  assert.is(AUTOAUGMENT_OPS.length, 14);
});

test('magnitude tables', () => {
  const M = AUTOAUGMENT_MAGNITUDES;
  for (const op of AUTOAUGMENT_OPS) assert.is(M[op].length, 10, op);
  assert.equal([...M.posterize], [8, 8, 7, 7, 6, 6, 5, 5, 4, 4]);
  near(M.solarize[0]!, 256, 0);
  near(M.solarize[9]!, 0, 1e-12);
  near(M.solarize[5]!, 256 - (256 * 5) / 9, 1e-9);
  near(M.rotate[9]!, 30, 1e-12);
  near(M.rotate[3]!, 10, 1e-12);
  near(M.shearX[5]!, 0.3 * 5 / 9, 1e-12);
  near(M.translateY[9]!, 150 / 331, 1e-12);
  near(M.color[9]!, 0.9, 1e-12);
  near(M.sharpness[7]!, 0.7, 1e-12);
  assert.ok(M.equalize.every((v) => v === 0));
});

test('invert, posterize, solarize', () => {
  const img = makeImage(3, 1, (x) => [[0, 171, 255][x]!, [100, 200, 128][x]!, 7]);
  assert.equal(px(invertImage(img), 1, 0), [84, 55, 248]);
  assert.equal(px(posterizeImage(img, 4), 1, 0), [160, 192, 0]);
  assert.equal(posterizeImage(img, 8).data, img.data);
  assert.equal([...solarizeImage(img, 128).data], [0, 100, 7, 84, 55, 7, 0, 127, 7]);
  assert.equal(solarizeImage(img, 256).data, img.data);
  assert.equal([...solarizeImage(img, 0).data], [...invertImage(img).data]);
});

test('autocontrast stretches each channel to [0, 255]; flat channels kept', () => {
  const img = makeImage(3, 1, (x) => [50 + 50 * x, 7, 10 * x]);
  const a = autocontrastImage(img);
  assert.equal([...a.data], [0, 7, 0, 127, 7, 127, 255, 7, 255]);
});

test('equalize: PIL algorithm on a two-level channel', () => {
  const img = makeImage(510, 1, (x) => [x < 255 ? 10 : 20, x % 256, 3]);
  const e = equalizeImage(img);
  assert.equal(px(e, 0, 0)[0], 0);
  assert.equal(px(e, 300, 0)[0], 255);
  assert.equal(px(e, 0, 0)[2], 3, 'single-level channel unchanged');
});

test('rotate: counter-clockwise about the center, gray corners', () => {
  const img = makeImage(5, 5, (x, y) => [x * 50, y * 50, 1]);
  const r = applyAutoAugmentOp(img, 'rotate', 90);
  for (let y = 0; y < 5; y++) for (let x = 0; x < 5; x++) assert.equal(px(r, x, y), px(img, 4 - y, x), `(${x},${y})`);
  const big = makeImage(21, 21, () => [10, 20, 30]);
  const r30 = applyAutoAugmentOp(big, 'rotate', 30);
  assert.equal(px(r30, 0, 0), [128, 128, 128]);
  assert.equal(px(r30, 20, 20), [128, 128, 128]);
  assert.equal(px(r30, 10, 10), [10, 20, 30]);
  assert.equal(applyAutoAugmentOp(big, 'rotate', 0).data, big.data);
});

test('translate: shift by magnitude x size with gray fill, sign flips direction', () => {
  const img = makeImage(10, 4, (x) => [x * 20, 0, 0]);
  const left = applyAutoAugmentOp(img, 'translateX', 0.2, 1);
  assert.equal(px(left, 0, 1), px(img, 2, 1));
  assert.equal(px(left, 7, 1), px(img, 9, 1));
  assert.equal(px(left, 8, 1), [128, 128, 128]);
  const right = applyAutoAugmentOp(img, 'translateX', 0.2, -1);
  assert.equal(px(right, 2, 0), px(img, 0, 0));
  assert.equal(px(right, 1, 0), [128, 128, 128]);
  const down = applyAutoAugmentOp(makeImage(4, 10, (_, y) => [0, y * 20, 0]), 'translateY', 0.3, -1);
  assert.equal(px(down, 0, 3), [0, 0, 0]);
  assert.equal(px(down, 0, 2), [128, 128, 128]);
});

test('shear: identity at 0, constant interior, gray where the source is outside', () => {
  const g = gradient(12, 9);
  assert.equal(applyAutoAugmentOp(g, 'shearX', 0, 1).data, g.data);
  assert.equal(applyAutoAugmentOp(g, 'shearY', 0, -1).data, g.data);
  const flat = makeImage(20, 20, () => [200, 200, 200]);
  const s = applyAutoAugmentOp(flat, 'shearX', 0.3, 1);
  assert.equal(px(s, 0, 0), [200, 200, 200]);
  assert.equal(px(s, 19, 19), [128, 128, 128]);
  assert.equal(px(s, 10, 10), [200, 200, 200]);
  const sy = applyAutoAugmentOp(flat, 'shearY', 0.3, -1);
  assert.equal(px(sy, 19, 0), [128, 128, 128]);
});

test('enhance ops use factor 1 +/- magnitude', () => {
  const img = makeImage(2, 1, (x) => (x ? [200, 100, 50] : [20, 40, 60]));
  assert.equal(applyAutoAugmentOp(img, 'color', 0, -1).data, img.data);
  assert.equal(applyAutoAugmentOp(img, 'brightness', 0.5, -1).data, new Uint8Array([10, 20, 30, 100, 50, 25]));
  assert.equal(applyAutoAugmentOp(img, 'brightness', 0.5, 1).data, new Uint8Array([30, 60, 90, 255, 150, 75]));
  const gray = applyAutoAugmentOp(img, 'color', 1, -1);
  assert.equal(px(gray, 1, 0), [124, 124, 124]);
  assert.not.equal(applyAutoAugmentOp(img, 'contrast', 0.9, 1).data, img.data);
});

test('sub-policy steps fire with their probabilities', () => {
  const img = gradient(4, 4);
  const inv = invertImage(img);
  const rng = new DataRng(5);
  let once = 0;
  const n = 4000;
  for (let i = 0; i < n; i++) {
    const o = applyAutoAugmentSubPolicy(img, [{ op: 'invert', level: 0, prob: 0.3 }, { op: 'invert', level: 0, prob: 0.3 }], rng);
    if (o.data.every((v, k) => v === inv.data[k])) once++;
  }
  near(once / n, 2 * 0.3 * 0.7, 0.025, 'exactly one inversion');
  let never = true;
  for (let i = 0; i < 200; i++) {
    const o = applyAutoAugmentSubPolicy(img, [{ op: 'invert', level: 0, prob: 0 }], rng);
    never &&= o === img;
  }
  assert.ok(never, 'probability 0 never fires');
});

test('ImageNet policy: deterministic per generator, varied across generators', () => {
  const img = gradient(32, 24);
  const a = autoAugmentImageNet(img, new DataRng(77));
  assert.equal(autoAugmentImageNet(img, new DataRng(77)).data, a.data);
  const distinct = new Set<string>();
  for (let i = 0; i < 60; i++) distinct.add(Buffer.from(autoAugmentImageNet(img, DataRng.derive(1, i)).data).toString('base64'));
  assert.ok(distinct.size > 10, `${distinct.size} distinct outputs`);
  assert.is(a.width, 32);
  assert.is(a.height, 24);
});

test.run();
