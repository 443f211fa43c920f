// avgPool2d (count_include_pad true/false, ceil mode), pad2d (pad and crop) and the NASNets'
// pad-pool-crop pattern: forward against float64 CPU references written from PyTorch's
// definitions, backward against central finite differences of those references; and against
// PyTorch (fixtures from tools/gen_pool_pad_fixtures.py; forward atol 1e-5 / rtol 1e-4,
// gradients atol 1e-4 / rtol 1e-3).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { init, tensor, parameter, avgPool2d, maxPool2d, pad2d, mul, backward, type Tensor } from '../../src/index.js';
import { randn, prod, assertClose, numericGrad, assertThrowsWith } from '../helpers.js';

const test = suite('avg-pool-pad');
const FWD = { atol: 1e-5, rtol: 1e-5 };
const BWD = { atol: 1e-4, rtol: 1e-4 };

test.before(async () => {
  await init();
});

type Shape4 = [number, number, number, number];
interface AvgGeo { k: [number, number]; s: [number, number]; p: [number, number]; countPad: boolean; ceil: boolean }

/** PyTorch's pooling_output_shape. */
function outSize(n: number, k: number, s: number, p: number, ceil: boolean): number {
  const span = n + 2 * p - k;
  if (!ceil) return Math.floor(span / s) + 1;
  const o = Math.ceil(span / s) + 1;
  return (o - 1) * s >= n + p ? o - 1 : o;
}

/** PyTorch's avg_pool2d (aten/src/ATen/native/cpu/AvgPoolKernel.cpp), in float64. */
function avgPoolRef(x: ArrayLike<number>, [n, c, h, w]: Shape4, g: AvgGeo): { y: Float64Array; shape: Shape4 } {
  const oh = outSize(h, g.k[0], g.s[0], g.p[0], g.ceil);
  const ow = outSize(w, g.k[1], g.s[1], g.p[1], g.ceil);
  const y = new Float64Array(n * c * oh * ow);
  for (let pl = 0; pl < n * c; pl++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        let h0 = i * g.s[0] - g.p[0];
        let w0 = j * g.s[1] - g.p[1];
        let h1 = Math.min(h0 + g.k[0], h + g.p[0]);
        let w1 = Math.min(w0 + g.k[1], w + g.p[1]);
        const poolSize = (h1 - h0) * (w1 - w0);
        h0 = Math.max(h0, 0);
        w0 = Math.max(w0, 0);
        h1 = Math.min(h1, h);
        w1 = Math.min(w1, w);
        let s = 0;
        for (let a = h0; a < h1; a++) for (let b = w0; b < w1; b++) s += x[pl * h * w + a * w + b];
        y[(pl * oh + i) * ow + j] = s / (g.countPad ? poolSize : (h1 - h0) * (w1 - w0));
      }
    }
  }
  return { y, shape: [n, c, oh, ow] };
}

const avgCases: Array<[Shape4, AvgGeo]> = [
  [[1, 2, 7, 7], { k: [3, 3], s: [1, 1], p: [1, 1], countPad: false, ceil: false }],
  [[2, 3, 11, 11], { k: [3, 3], s: [2, 2], p: [1, 1], countPad: false, ceil: false }],
  [[2, 3, 11, 11], { k: [3, 3], s: [2, 2], p: [1, 1], countPad: true, ceil: false }],
  [[1, 3, 8, 9], { k: [3, 3], s: [2, 2], p: [1, 1], countPad: false, ceil: false }],
  [[1, 2, 10, 7], { k: [3, 2], s: [2, 2], p: [1, 0], countPad: true, ceil: true }],
  [[1, 2, 10, 7], { k: [3, 3], s: [2, 2], p: [1, 1], countPad: false, ceil: true }],
  [[2, 1, 6, 6], { k: [2, 2], s: [2, 2], p: [0, 0], countPad: true, ceil: false }],
  [[1, 1, 9, 13], { k: [5, 3], s: [3, 1], p: [2, 1], countPad: false, ceil: false }],
  [[1, 5, 33, 33], { k: [3, 3], s: [1, 1], p: [1, 1], countPad: false, ceil: false }],
];

for (const [s, g] of avgCases) {
  test(`avgPool2d ${JSON.stringify(s)} k${g.k} s${g.s} p${g.p} countIncludePad=${g.countPad} ceil=${g.ceil}`, async () => {
    const x = randn(prod(s), prod(s) + 11);
    const tx = parameter(x, s);
    const out = avgPool2d(tx, { kernel: g.k, stride: g.s, padding: g.p, countIncludePad: g.countPad, ceilMode: g.ceil });
    const ref = avgPoolRef(x, s, g);
    assert.equal([...out.shape], ref.shape);
    assertClose(await out.toArray(), ref.y, FWD, 'forward');
    const w = randn(ref.y.length, 9);
    backward(out, { gradient: tensor(w, ref.shape) });
    assertClose(await tx.grad!.toArray(), numericGrad((v) => avgPoolRef(v, s, g).y, x, w), BWD, 'grad x');
  });
}

test('avgPool2d countIncludePad=false: a constant image stays constant, the border included', async () => {
  const out = avgPool2d(tensor(new Float32Array(2 * 8 * 8).fill(3), [1, 2, 8, 8]), { kernel: 3, stride: 2, padding: 1, countIncludePad: false });
  assert.ok((await out.toArray()).every((v) => Math.abs(v - 3) < 1e-6));
});

/** F.pad(x, [l, r, t, b], value) on the last two dims, in float64. */
function padRef(x: ArrayLike<number>, [n, c, h, w]: Shape4, [l, r, t, b]: number[], value: number): Float64Array {
  const oh = h + t + b;
  const ow = w + l + r;
  const y = new Float64Array(n * c * oh * ow);
  for (let pl = 0; pl < n * c; pl++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        const ih = i - t;
        const iw = j - l;
        y[(pl * oh + i) * ow + j] = ih >= 0 && ih < h && iw >= 0 && iw < w ? x[(pl * h + ih) * w + iw] : value;
      }
    }
  }
  return y;
}

const padCases: Array<[Shape4, [number, number, number, number], number]> = [
  [[2, 3, 5, 6], [1, 0, 1, 0], 0],
  [[2, 3, 5, 6], [-1, 0, -1, 0], 0],
  [[1, 2, 4, 4], [2, 1, 0, 3], 0.5],
  [[1, 2, 7, 5], [1, -2, -3, 2], -1],
  [[1, 1, 3, 3], [0, 0, 0, 0], 0],
];

for (const [s, pads, value] of padCases) {
  test(`pad2d ${JSON.stringify(s)} by ${JSON.stringify(pads)} value ${value}: forward and backward`, async () => {
    const x = randn(prod(s), prod(s) + 1);
    const tx = parameter(x, s);
    const out = pad2d(tx, pads, value);
    const ref = padRef(x, s, pads, value);
    assert.equal([...out.shape], [s[0], s[1], s[2] + pads[2] + pads[3], s[3] + pads[0] + pads[1]]);
    assertClose(await out.toArray(), ref, { atol: 0, rtol: 0 }, 'forward');
    const w = randn(ref.length, 4);
    backward(out, { gradient: tensor(w, out.shape) });
    assertClose(await tx.grad!.toArray(), numericGrad((v) => padRef(v, s, pads, value), x, w), BWD, 'grad x');
  });
}

test("PNASNet's max pool with zero pad: ZeroPad2d((1,0,1,0)), 3x3/2 p1, crop [1:, 1:]", async () => {
  const s: Shape4 = [1, 2, 9, 9];
  const x = randn(prod(s), 21);
  const tx = parameter(x, s);
  const out = pad2d(maxPool2d(pad2d(tx, [1, 0, 1, 0]), { kernel: 3, stride: 2, padding: 1 }), [-1, 0, -1, 0]);
  assert.equal([...out.shape], [1, 2, 4, 4]);
  // reference: output (i, j) is pooled window (i + 1, j + 1) of the zero-padded 10x10 image, from
  // padded row 2(i + 1) - 1; the zero pad takes part in the max (a value, not -inf padding)
  const ref = (v: ArrayLike<number>) => {
    const y = new Float64Array(2 * 16);
    for (let p = 0; p < 2; p++) {
      for (let i = 0; i < 4; i++) {
        for (let j = 0; j < 4; j++) {
          let best = -Infinity;
          for (let a = 0; a < 3; a++) {
            for (let b = 0; b < 3; b++) {
              const ph = 2 * (i + 1) - 1 + a; // row in the padded image
              const pw = 2 * (j + 1) - 1 + b;
              if (ph > 9 || pw > 9) continue; // outside the padded image: -inf padding
              const val = ph === 0 || pw === 0 ? 0 : v[p * 81 + (ph - 1) * 9 + (pw - 1)];
              best = Math.max(best, val);
            }
          }
          y[p * 16 + i * 4 + j] = best;
        }
      }
    }
    return y;
  };
  assertClose(await out.toArray(), ref(x), { atol: 0, rtol: 0 }, 'forward');
  const w = randn(32, 3);
  backward(out, { gradient: tensor(w, out.shape) });
  assertClose(await tx.grad!.toArray(), numericGrad(ref, x, w, 1e-5), BWD, 'grad x');
});

test('squeeze-excitation scale x * s[N, C, 1, 1]: both gradients (s reduced over H, W)', async () => {
  const xs: Shape4 = [2, 3, 5, 4];
  const x = randn(prod(xs), 31);
  const sc = randn(6, 32);
  const tx = parameter(x, xs);
  const ts = parameter(sc, [2, 3, 1, 1]);
  const out = mul(tx, ts);
  const ref = (xv: ArrayLike<number>, sv: ArrayLike<number>) => Float64Array.from({ length: xv.length }, (_, i) => xv[i] * sv[Math.floor(i / 20)]);
  assertClose(await out.toArray(), ref(x, sc), FWD, 'forward');
  const w = randn(x.length, 33);
  backward(out, { gradient: tensor(w, xs) });
  assertClose(await tx.grad!.toArray(), numericGrad((v) => ref(v, sc), x, w), BWD, 'grad x');
  assertClose(await ts.grad!.toArray(), numericGrad((v) => ref(x, v), sc, w), BWD, 'grad s');
});

// tests run from build/test/norm/; the fixtures stay in the source tree
const fixtures = (JSON.parse(readFileSync(new URL('../../../kernels-test/norm/fixtures/avgpool_pad.json', import.meta.url), 'utf8')) as {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  cases: Record<string, any>[];
}).cases;

const chains: Record<string, (x: Tensor, c: Record<string, unknown>) => Tensor> = {
  avg: (x, c) => avgPool2d(x, { kernel: c.kernel as number, stride: c.stride as number, padding: c.padding as number, ceilMode: c.ceilMode as boolean, countIncludePad: c.countIncludePad as boolean }),
  pad: (x, c) => pad2d(x, c.pads as [number, number, number, number], c.value as number),
  pad_max_crop: (x) => pad2d(maxPool2d(pad2d(x, [1, 0, 1, 0]), { kernel: 3, stride: 2, padding: 1 }), [-1, 0, -1, 0]),
  pad_avg_crop: (x) => pad2d(avgPool2d(pad2d(x, [1, 0, 1, 0]), { kernel: 3, stride: 2, padding: 1, countIncludePad: false }), [-1, 0, -1, 0]),
};

for (const [i, c] of fixtures.entries()) {
  test(`torch parity #${i}: ${c.op} ${JSON.stringify(c.shape)}`, async () => {
    const x = parameter(c.x, c.shape);
    const out = chains[c.op](x, c);
    assert.equal([...out.shape], c.outShape);
    assertClose(await out.toArray(), c.out, { atol: 1e-5, rtol: 1e-4 }, 'out');
    backward(out, { gradient: tensor(c.g, c.outShape) });
    assertClose(await x.grad!.toArray(), c.dx, { atol: 1e-4, rtol: 1e-3 }, 'dx');
  });
}

test('clear errors', async () => {
  const x = tensor(new Float32Array(2 * 3 * 5 * 5), [2, 3, 5, 5]);
  await assertThrowsWith(() => avgPool2d(x, { kernel: 3, padding: 2 }), ['avgPool2d', 'padding', 'half the kernel'], 'padding');
  await assertThrowsWith(() => avgPool2d(x, { kernel: 7 }), ['avgPool2d', '[2, 3, 5, 5]', 'too small'], 'too small');
  await assertThrowsWith(() => pad2d(x, [-3, -2, 0, 0]), ['pad2d', '[2, 3, 5, 5]', 'to nothing'], 'crop all');
  await assertThrowsWith(() => pad2d(x, [1, 1] as unknown as [number, number, number, number]), ['pad2d', '4 integers'], 'pads');
});

test.run();
