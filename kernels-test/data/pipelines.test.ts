import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  DataRng, IMAGENET_MEAN, IMAGENET_STD, TRAIN_RECIPES, applyLighting, clampChw, colorJitter, flipImageHorizontal, makeTrainTransform,
  makeTransform, makeValidationTransform, normalizeChw, randomHorizontalFlip, randomResizedCrop, resizeTargetSize, rgbToChw, rgbToNormalizedChw, validationOutputSize,
  validationRect, validationSquare,
} from '../../src/index.js';
import { gradient, makeImage, mean, near, px, throwsWith } from './helpers.js';

test('every recipe gives a normalized 3 x s x s image, deterministic per generator', () => {
  const img = gradient(120, 90);
  for (const recipe of TRAIN_RECIPES) {
    const t = makeTrainTransform(recipe, 32);
    const a = t(img, new DataRng(1));
    const b = t(img, new DataRng(1));
    const c = t(img, new DataRng(2));
    assert.equal([a.channels, a.height, a.width], [3, 32, 32], recipe);
    assert.is(a.data.length, 3 * 32 * 32);
    assert.equal(a.data, b.data, `${recipe} deterministic`);
    assert.not.equal(a.data, c.data, `${recipe} depends on the seed`);
    for (let ch = 0; ch < 3; ch++) {
      const plane = a.data.subarray(ch * 1024, (ch + 1) * 1024);
      const lo = -IMAGENET_MEAN[ch]! / IMAGENET_STD[ch]! - 1e-5;
      const hi = (1 - IMAGENET_MEAN[ch]!) / IMAGENET_STD[ch]! + 1e-5;
      assert.ok(plane.every((v) => v >= lo && v <= hi), `${recipe} channel ${ch} in range`);
    }
  }
});

test('"full" / "senet" equal the step-by-step composition with the same generator (float32 rounding aside)', () => {
  const img = gradient(64, 48);
  for (const [recipe, s] of [['full', 0.3], ['senet', 0.2]] as const) {
    const rng = new DataRng(9);
    let x = randomResizedCrop(img, 20, rng);
    if (rng.random() < 0.5) x = flipImageHorizontal(x);
    x = colorJitter(x, rng, { brightness: s, contrast: s, saturation: s });
    const t = rgbToChw(x);
    applyLighting(t, rng, 0.1);
    normalizeChw(clampChw(t));
    const fused = makeTrainTransform(recipe, 20)(img, new DataRng(9)).data;
    let worst = 0;
    for (let i = 0; i < fused.length; i++) worst = Math.max(worst, Math.abs(fused[i]! - t.data[i]!));
    assert.ok(worst < 2e-6, `${recipe}: fused pass differs by ${worst}`);
  }
});

test('"torch" of a constant image is the normalized constant', () => {
  const img = makeImage(50, 40, () => [51, 102, 204]);
  const out = makeTrainTransform('torch', 16)(img, new DataRng(3));
  [51, 102, 204].forEach((v, c) => {
    const want = (v / 255 - IMAGENET_MEAN[c]!) / IMAGENET_STD[c]!;
    assert.ok(out.data.subarray(c * 256, (c + 1) * 256).every((x) => Math.abs(x - want) < 1e-5), `channel ${c}`);
  });
});

test('"full" brightens and darkens around the input on average (jitter + lighting / 1.1)', () => {
  const img = makeImage(40, 40, () => [128, 128, 128]);
  const t = makeTrainTransform('full', 8);
  const means: number[] = [];
  for (let i = 0; i < 300; i++) {
    const o = t(img, DataRng.derive(1, i));
    means.push(mean(o.data.subarray(0, 64)) * IMAGENET_STD[0] + IMAGENET_MEAN[0]);
  }
  // Jitter is mean-preserving on average; lighting divides by 1.1: about (128/255)/1.1 = 0.456.
  near(mean(means), 128 / 255 / 1.1, 0.01, 'mean red level');
  assert.ok(Math.max(...means) - Math.min(...means) > 0.2, 'per-sample variation');
});

test('random horizontal flip: p = 0.5, flipped = mirrored', () => {
  const img = gradient(6, 2);
  const mirrored = flipImageHorizontal(img);
  const rng = new DataRng(21);
  let flipped = 0;
  for (let i = 0; i < 4000; i++) {
    const o = randomHorizontalFlip(img, rng);
    if (o !== img) {
      flipped++;
      assert.equal(o.data, mirrored.data);
    }
  }
  near(flipped / 4000, 0.5, 0.025, 'flip rate');
  assert.is(randomHorizontalFlip(img, rng, 0), img);
});

test('validation square: shorter side to int(s*256/224), center crop s', () => {
  assert.equal(resizeTargetSize(500, 375, 256), [341, 256]);
  assert.equal(resizeTargetSize(375, 500, 256), [256, 341]);
  const img = makeImage(500, 375, (x, y) => [x === 250 && y === 187 ? 255 : 0, 0, 0]);
  const sq = validationSquare(gradient(500, 375), 224);
  assert.equal([sq.width, sq.height], [224, 224]);
  // The crop is centered: the left column of the crop is x = (341 - 224) / 2 ~ 58 of the resized image.
  const g = gradient(500, 375);
  const r = validationSquare(g, 224);
  near(px(r, 0, 112)[0], Math.round(((58.5 * 500) / 341 / 499) * 255), 2, 'left edge level');
  near(px(r, 223, 112)[0], Math.round(((281.5 * 500) / 341 / 499) * 255), 2, 'right edge level');
  const t = makeValidationTransform('square', 224)(img, new DataRng(0));
  assert.equal([t.channels, t.height, t.width], [3, 224, 224]);
  assert.equal(validationOutputSize('square', 500, 375, 224), [224, 224]);
});

test('validation rect: longest side = s, aspect kept, no crop', () => {
  assert.equal([validationRect(gradient(500, 375), 224).width, validationRect(gradient(500, 375), 224).height], [224, 168]);
  const tall = validationRect(gradient(375, 500), 224);
  assert.equal([tall.width, tall.height], [168, 224]);
  assert.equal(validationOutputSize('rect', 375, 500, 224), [168, 224]);
  assert.equal(validationOutputSize('rect', 800, 800, 500), [500, 500]);
  const up = makeValidationTransform('rect', 64)(gradient(40, 10), new DataRng(0));
  assert.equal([up.width, up.height], [64, 16]);
  // Rect keeps the whole picture: corners of the gradient survive.
  const r = validationRect(gradient(500, 375), 224);
  assert.ok(px(r, 0, 0)[0] < 3 && px(r, 223, 0)[0] > 252);
});

test('fused ToTensor + offset + scale + clamp + normalize equals the separate stages', () => {
  const img = gradient(13, 7);
  const t = rgbToChw(img);
  const off = [0.3, -0.2, 0.05];
  for (let c = 0; c < 3; c++) for (let p = 0; p < 91; p++) t.data[c * 91 + p] = (t.data[c * 91 + p]! + off[c]!) / 1.1;
  normalizeChw(clampChw(t));
  const f = rgbToNormalizedChw(img, { offset: off, scale: 1 / 1.1, clamp: true });
  for (let i = 0; i < t.data.length; i++) near(f.data[i]!, t.data[i]!, 2e-6, `value ${i}`);
  const plain = rgbToNormalizedChw(img, { mean: [0, 0, 0], std: [1, 1, 1] });
  assert.equal(plain.data, rgbToChw(img).data);
});

test('bad specs fail clearly', () => {
  throwsWith(() => makeTrainTransform('fancy' as 'full', 224), /unknown augmentation recipe "fancy"/);
  throwsWith(() => makeValidationTransform('wide' as 'rect', 224), /unknown validation mode "wide"/);
  throwsWith(() => makeTransform({ kind: 'train', recipe: 'full', size: 0 }), /positive integer/);
});

test('cropScale bounds the crop area: [1, 1] keeps the whole square image; bad ranges are refused', () => {
  const img = gradient(16, 16);
  const whole = makeTransform({ kind: 'train', recipe: 'torch', size: 16, cropScale: [1, 1] });
  const plain = makeTransform({ kind: 'val', mode: 'rect', size: 16 });
  // a full-area crop of a square image with a non-square aspect fails all 10 attempts and falls
  // back to the center crop (the whole image), or draws aspect ~1: either way the whole image
  const out = whole(img, new DataRng(3));
  const ref = plain(img, new DataRng(3));
  const flipped = Array.from({ length: out.data.length }, (_, i) => {
    const x = i % 16;
    return ref.data[i - x + 15 - x];
  });
  const same = (a: ArrayLike<number>) => Array.from(out.data).every((v, i) => Math.abs(v - a[i]) < 1e-5);
  assert.ok(same(ref.data) || same(flipped), 'whole image, possibly mirrored');
  throwsWith(() => makeTransform({ kind: 'train', recipe: 'torch', size: 16, cropScale: [0.5, 0.2] }), /crop scale/);
});

test.run();
