import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  DataRng, applyColorJitter, colorJitterParams, jitterToNormalizedChw, lightingOffset, rgbToNormalizedChw, type ColorJitterParams,
} from '../../src/index.js';
import { makeImage } from './helpers.js';

// A noisy image with saturated corners, so that clipping at 0 and 255 happens.
function noisy(seed: number) {
  const rng = new DataRng(seed);
  return makeImage(23, 17, (x, y) => (x < 3 && y < 3 ? [255, 255, 255] : x > 19 && y > 13 ? [0, 0, 0] : [rng.intInclusive(0, 255), rng.intInclusive(0, 255), rng.intInclusive(0, 255)]));
}

const ORDERS: ColorJitterParams['order'][] = [
  ['brightness', 'contrast', 'saturation'], ['brightness', 'saturation', 'contrast'], ['contrast', 'brightness', 'saturation'],
  ['contrast', 'saturation', 'brightness'], ['saturation', 'brightness', 'contrast'], ['saturation', 'contrast', 'brightness'],
  ['contrast'], ['saturation'], ['brightness', 'contrast'], [],
];

test('one pass equals the staged jitter + to-tensor exactly, in every order and with lighting', () => {
  let k = 0;
  for (const order of ORDERS) {
    for (const factors of [{ brightness: 0.7, contrast: 1.4, saturation: 0.6 }, { brightness: 1.9, contrast: 0.05, saturation: 1.95 }, { brightness: 0, contrast: 0, saturation: 0 }]) {
      const img = noisy(k++);
      const params: ColorJitterParams = { order, factors };
      const options = { offset: lightingOffset([0.13, -0.2, 0.05]), scale: 1 / 1.1, clamp: true };
      const want = rgbToNormalizedChw(applyColorJitter(img, params), options).data;
      assert.equal(jitterToNormalizedChw(img, params, options).data, want, `${order.join(',')} ${JSON.stringify(factors)}`);
    }
  }
});

test('one pass equals the staged path for sampled parameters (the loader\'s draws)', () => {
  for (let s = 0; s < 30; s++) {
    const rng = DataRng.derive(4, 0, s);
    const img = noisy(100 + s);
    const params = colorJitterParams(rng, { brightness: 0.4, contrast: 0.4, saturation: 0.4 });
    const want = rgbToNormalizedChw(applyColorJitter(img, params), { mean: [0.5, 0.4, 0.3], std: [0.2, 0.3, 0.25] }).data;
    assert.equal(jitterToNormalizedChw(img, params, { mean: [0.5, 0.4, 0.3], std: [0.2, 0.3, 0.25] }).data, want, `sample ${s}`);
  }
});

test.run();
