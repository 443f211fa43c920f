// augmentImages (the data/augment kernel): the GPU colour augmentation against the CPU one-pass
// path (jitterToNormalizedChw), per image of a batch whose images each have their own order,
// factors and lighting. Factors with few mantissa bits make every product exact in f32, so each
// 8-bit step truncates alike and the floats agree to 1e-5; the loader's drawn factors (doubles
// on the CPU, f32 on the GPU) may cross a truncation boundary, so those are compared by the
// share of exact values and a one-level bound. Plus the plan's uint8 half against its float half.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  init, tensor, augmentImages, packBytes, writeAugmentParams, AUGMENT_PARAMS_PER_IMAGE, DataRng, colorJitterParams,
  jitterToNormalizedChw, flipImageHorizontal, lightingOffset, makeTrainPlan, type AugmentImageParams, type ColorJitterParams, type RgbImage,
} from '../../src/index.js';
import { assertThrowsWith } from '../helpers.js';
import { makeImage } from './helpers.js';

const test = suite('gpu-augment');
test.before(async () => {
  await init();
});

// A noisy image with saturated corners, so that clipping at 0 and 255 happens.
function noisy(w: number, h: number, seed: number): RgbImage {
  const rng = new DataRng(seed);
  return makeImage(w, h, (x, y) => (x < 3 && y < 3 ? [255, 255, 255] : x > w - 4 && y > h - 4 ? [0, 0, 0] : [rng.intInclusive(0, 255), rng.intInclusive(0, 255), rng.intInclusive(0, 255)]));
}

const ORDERS: ColorJitterParams['order'][] = [
  ['brightness', 'contrast', 'saturation'], ['brightness', 'saturation', 'contrast'], ['contrast', 'brightness', 'saturation'],
  ['contrast', 'saturation', 'brightness'], ['saturation', 'brightness', 'contrast'], ['saturation', 'contrast', 'brightness'],
  ['contrast'], ['saturation'], ['brightness'], ['saturation', 'contrast'], [],
];
// Factors exact in a few bits: f · v and m + f · (v - m) are exact in f32 as in doubles.
const FACTORS = [{ brightness: 0.6875, contrast: 1.375, saturation: 0.5625 }, { brightness: 1.9375, contrast: 0.0625, saturation: 1.875 }, { brightness: 0, contrast: 0, saturation: 0 }];

interface Case { image: RgbImage; params: AugmentImageParams }
interface Colour { mean: number[]; std: number[]; scale: number; clamp: boolean }

/** GPU batch output, and the CPU output of each image, for one size and colour constants. */
async function both(cases: Case[], colour: Colour): Promise<{ gpu: Float32Array; cpu: Float32Array }> {
  const { width, height } = cases[0]!.image;
  const bytes = new Uint8Array(cases.length * width * height * 3);
  const prm = new Float32Array(cases.length * AUGMENT_PARAMS_PER_IMAGE);
  const cpu = new Float32Array(cases.length * width * height * 3);
  cases.forEach((c, i) => {
    bytes.set(c.image.data, i * width * height * 3);
    writeAugmentParams(prm, i, c.params);
    const chw = jitterToNormalizedChw(c.params.flip ? flipImageHorizontal(c.image) : c.image, { order: [...c.params.order], factors: c.params.factors }, { ...colour, offset: c.params.offset });
    cpu.set(chw.data, i * width * height * 3);
  });
  const out = augmentImages(tensor(packBytes(bytes), undefined, 'u32'), tensor(prm, [cases.length, AUGMENT_PARAMS_PER_IMAGE]), height, width, colour);
  assert.equal(out.shape, [cases.length, 3, height, width]);
  return { gpu: await out.toArray() as Float32Array, cpu };
}

function maxAbsDiff(a: Float32Array, b: Float32Array): { max: number; exact: number } {
  let max = 0, exact = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (d > max) max = d;
    if (d <= 1e-5) exact++;
  }
  return { max, exact: exact / a.length };
}

const FULL: Colour = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], scale: 1 / 1.1, clamp: true };

test('every jitter order, with lighting and the flip, equals the CPU path to 1e-5 (odd sizes: images straddle u32 words; 24x20: 4 pixels per invocation)', async () => {
  for (const [w, h] of [[23, 17], [5, 3], [40, 31], [24, 20], [6, 2]] as const) {
    const cases: Case[] = [];
    let k = 0;
    for (const order of ORDERS) {
      for (const factors of FACTORS) {
        cases.push({ image: noisy(w, h, 7 * w + k), params: { order, factors, offset: lightingOffset([0.13 - 0.02 * k, -0.2, 0.05 * (k % 3)]), flip: k % 2 === 1 } });
        k++;
      }
    }
    const { gpu, cpu } = await both(cases, FULL);
    const { max } = maxAbsDiff(gpu, cpu);
    assert.ok(max <= 1e-5, `${w}x${h}: max |gpu - cpu| = ${max}`);
  }
});

test('without jitter or lighting (torch recipe: normalise only), other mean and std', async () => {
  const colour: Colour = { mean: [0.5, 0.4, 0.3], std: [0.2, 0.3, 0.25], scale: 1, clamp: false };
  const cases = [0, 1, 2].map((s) => ({ image: noisy(19, 13, s), params: { order: [], factors: {} } as AugmentImageParams }));
  const { gpu, cpu } = await both(cases, colour);
  assert.ok(maxAbsDiff(gpu, cpu).max <= 1e-5);
});

test('the loader\'s drawn factors: almost every value exact, none more than one 8-bit level off', async () => {
  const cases: Case[] = [];
  for (let s = 0; s < 24; s++) {
    const rng = DataRng.derive(4, 0, s);
    const { order, factors } = colorJitterParams(rng, { brightness: 0.4, contrast: 0.4, saturation: 0.4 });
    cases.push({ image: noisy(32, 32, 100 + s), params: { order, factors, offset: lightingOffset([rng.normal(0, 0.1), rng.normal(0, 0.1), rng.normal(0, 0.1)]) } });
  }
  const { gpu, cpu } = await both(cases, FULL);
  const { max, exact } = maxAbsDiff(gpu, cpu);
  assert.ok(exact >= 0.999, `exact share ${exact}`);
  assert.ok(max <= 1.5 / 255 / 0.224 / 1.1 + 1e-5, `max |gpu - cpu| = ${max}`);
});

test('the train plan\'s uint8 half + the GPU equals its float half (same draws)', async () => {
  for (const recipe of ['full', 'senet', 'torch', 'AA'] as const) {
    const plan = makeTrainPlan(recipe, 24);
    const cases: Case[] = [];
    const cpu: Float32Array[] = [];
    for (let s = 0; s < 6; s++) {
      const crop = noisy(24, 24, 50 + s);
      cpu.push(plan.finish(crop, DataRng.derive(9, 1, s)).data);
      cases.push(plan.finishUint8(crop, DataRng.derive(9, 1, s)));
    }
    const { gpu } = await both(cases, { ...plan.colour, mean: [...plan.colour.mean], std: [...plan.colour.std] });
    const want = new Float32Array(cpu.length * cpu[0]!.length);
    cpu.forEach((c, i) => want.set(c, i * c.length));
    const { max, exact } = maxAbsDiff(gpu, want);
    assert.ok(exact >= 0.995 && max <= 0.03, `${recipe}: exact share ${exact}, max ${max}`);
  }
});

test('bad shapes are refused with the expected shape', async () => {
  const prm = tensor(new Float32Array(2 * AUGMENT_PARAMS_PER_IMAGE), [2, AUGMENT_PARAMS_PER_IMAGE]);
  await assertThrowsWith(() => augmentImages(tensor(new Uint32Array(10), undefined, 'u32'), prm, 4, 4, FULL), ['augmentImages', 'u32 [24]', '[10]'], 'pixels size');
  await assertThrowsWith(() => augmentImages(tensor(new Float32Array(24)), prm, 4, 4, FULL), ['augmentImages', 'u32', 'f32'], 'pixels dtype');
  await assertThrowsWith(() => augmentImages(tensor(new Uint32Array(24), undefined, 'u32'), tensor(new Float32Array(12), [2, 6]), 4, 4, FULL), ['[N, 8]', '[2, 6]'], 'params shape');
  assert.throws(() => writeAugmentParams(new Float32Array(8), 0, { order: ['contrast', 'contrast'], factors: { contrast: 1 } }), /at most once/);
});

test.run();
