// maxPool2d and globalAvgPool: forward against a float64 CPU reference, backward against
// central finite differences of that reference. Max pooling is exact (a selection), so its
// forward is compared exactly; gradients atol/rtol 1e-4.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { init, tensor, parameter, maxPool2d, globalAvgPool, backward, noGrad, tapeLength } from '../../src/index.js';
import { randn, prod, assertClose, numericGrad, assertThrowsWith } from '../helpers.js';

const test = suite('pool');
const EXACT = { atol: 0, rtol: 0 };
const BWD = { atol: 1e-4, rtol: 1e-4 };

test.before(async () => {
  await init();
});

type Shape4 = [number, number, number, number];
interface Geo { k: [number, number]; s: [number, number]; p: [number, number]; d: [number, number] }

function outSize(n: number, k: number, s: number, p: number, d: number): number {
  return Math.floor((n + 2 * p - d * (k - 1) - 1) / s) + 1;
}

function maxPoolRef(x: ArrayLike<number>, [n, c, h, w]: Shape4, g: Geo): { y: Float64Array; arg: Int32Array; shape: Shape4 } {
  const oh = outSize(h, g.k[0], g.s[0], g.p[0], g.d[0]);
  const ow = outSize(w, g.k[1], g.s[1], g.p[1], g.d[1]);
  const y = new Float64Array(n * c * oh * ow);
  const arg = new Int32Array(y.length);
  for (let pl = 0; pl < n * c; pl++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        let best = -Infinity;
        let at = -1;
        for (let a = 0; a < g.k[0]; a++) {
          for (let b = 0; b < g.k[1]; b++) {
            const ih = i * g.s[0] - g.p[0] + a * g.d[0];
            const iw = j * g.s[1] - g.p[1] + b * g.d[1];
            if (ih < 0 || ih >= h || iw < 0 || iw >= w) continue;
            const k = pl * h * w + ih * w + iw;
            if (x[k] > best) {
              best = x[k];
              at = k;
            }
          }
        }
        y[(pl * oh + i) * ow + j] = best;
        arg[(pl * oh + i) * ow + j] = at;
      }
    }
  }
  return { y, arg, shape: [n, c, oh, ow] };
}

/** Analytic backward: each output gradient goes to its window's first maximum. */
function maxPoolGradRef(x: ArrayLike<number>, s: Shape4, g: Geo, dy: ArrayLike<number>): Float64Array {
  const { arg } = maxPoolRef(x, s, g);
  const dx = new Float64Array(x.length);
  arg.forEach((k, o) => (dx[k] += dy[o]));
  return dx;
}

const cases: Array<[Shape4, Geo]> = [
  [[1, 1, 7, 7], { k: [3, 3], s: [2, 2], p: [1, 1], d: [1, 1] }],
  [[2, 3, 13, 13], { k: [3, 3], s: [2, 2], p: [1, 1], d: [1, 1] }],
  [[1, 17, 33, 33], { k: [3, 3], s: [2, 2], p: [1, 1], d: [1, 1] }],
  [[2, 3, 8, 8], { k: [2, 2], s: [2, 2], p: [0, 0], d: [1, 1] }],
  [[1, 3, 7, 9], { k: [3, 2], s: [1, 2], p: [1, 0], d: [1, 1] }],
  [[2, 1, 13, 11], { k: [5, 3], s: [3, 2], p: [2, 1], d: [1, 1] }],
  [[1, 2, 13, 13], { k: [3, 3], s: [2, 2], p: [1, 1], d: [2, 2] }],
  [[3, 3, 4, 4], { k: [4, 4], s: [4, 4], p: [0, 0], d: [1, 1] }],
  [[1, 2, 11, 10], { k: [2, 2], s: [3, 3], p: [1, 0], d: [1, 1] }],
  [[1, 1, 9, 9], { k: [3, 3], s: [1, 1], p: [1, 1], d: [1, 1] }],
];

for (const [s, g] of cases) {
  test(`maxPool2d ${JSON.stringify(s)} k${g.k} s${g.s} p${g.p} d${g.d}: forward and backward`, async () => {
    const x = randn(prod(s), prod(s) + 3);
    const tx = parameter(x, s);
    const out = maxPool2d(tx, { kernel: g.k, stride: g.s, padding: g.p, dilation: g.d });
    const ref = maxPoolRef(x, s, g);
    assert.equal([...out.shape], ref.shape);
    assertClose(await out.toArray(), ref.y, EXACT, 'forward');
    const w = randn(ref.y.length, 5);
    backward(out, { gradient: tensor(w, ref.shape) });
    const analytic = maxPoolGradRef(x, s, g, w);
    assertClose(await tx.grad!.toArray(), analytic, BWD, 'grad x');
    // finite differences validate the analytic rule on the small cases (no near-ties there)
    if (x.length <= 600) assertClose(analytic, numericGrad((v) => maxPoolRef(v, s, g).y, x, w, 1e-5), BWD, 'analytic vs finite differences');
  });
}

test('maxPool2d: ties go to the first maximum of the window (PyTorch), gradients sum over windows', async () => {
  // constant plane: every window's first element wins; overlapping windows share inputs
  const s: Shape4 = [1, 1, 5, 5];
  const tx = parameter(new Float32Array(25).fill(1), s);
  const out = maxPool2d(tx, { kernel: 3, stride: 2, padding: 1 });
  assert.equal([...out.shape], [1, 1, 3, 3]);
  backward(out, { gradient: tensor(new Float32Array(9).fill(1), [1, 1, 3, 3]) });
  // window (i, j) starts at (2i-1, 2j-1) clamped to 0: first valid element is (max(2i-1,0), max(2j-1,0))
  const expected = new Float64Array(25);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) expected[Math.max(2 * i - 1, 0) * 5 + Math.max(2 * j - 1, 0)] += 1;
  assertClose(await tx.grad!.toArray(), expected, EXACT, 'tie routing');
});

test('maxPool2d: padding acts as -inf (all-negative input)', async () => {
  const x = randn(49, 3).map((v) => Math.fround(-Math.abs(v) - 1));
  const out = maxPool2d(tensor(x, [1, 1, 7, 7]), { kernel: 3, stride: 2, padding: 1 });
  const ref = maxPoolRef(x, [1, 1, 7, 7], { k: [3, 3], s: [2, 2], p: [1, 1], d: [1, 1] });
  assertClose(await out.toArray(), ref.y, EXACT, 'forward');
  assert.ok(Math.max(...await out.toArray()) < 0);
});

test('maxPool2d: no index buffer or tape node without grad', async () => {
  const before = tapeLength();
  const out = noGrad(() => maxPool2d(parameter(randn(2 * 3 * 9 * 9, 1), [2, 3, 9, 9]), { kernel: 3, stride: 2, padding: 1 }));
  assert.is(tapeLength(), before);
  assert.equal([...out.shape], [2, 3, 5, 5]);
});

for (const s of [[1, 1, 7, 7], [2, 3, 13, 13], [2, 17, 1, 1], [1, 3, 33, 33], [3, 5, 2, 3]] as Shape4[]) {
  test(`globalAvgPool ${JSON.stringify(s)}: forward and backward`, async () => {
    const [n, c, h, w] = s;
    const x = randn(prod(s), 50 + prod(s));
    const ref = (v: ArrayLike<number>) => {
      const y = new Float64Array(n * c);
      for (let r = 0; r < n * c; r++) {
        let acc = 0;
        for (let i = 0; i < h * w; i++) acc += v[r * h * w + i];
        y[r] = acc / (h * w);
      }
      return y;
    };
    const tx = parameter(x, s);
    const out = globalAvgPool(tx);
    assert.equal([...out.shape], [n, c]);
    assertClose(await out.toArray(), ref(x), { atol: 1e-5, rtol: 1e-5 }, 'forward');
    const g = randn(n * c, 7);
    backward(out, { gradient: tensor(g, [n, c]) });
    assertClose(await tx.grad!.toArray(), numericGrad(ref, x, g), BWD, 'grad x');
  });
}

test('clear errors', async () => {
  const x = tensor(new Float32Array(2 * 3 * 5 * 5), [2, 3, 5, 5]);
  await assertThrowsWith(() => maxPool2d(x, { kernel: 3, padding: 2 }), ['maxPool2d', 'padding', 'half the kernel'], 'padding');
  await assertThrowsWith(() => maxPool2d(x, { kernel: 7 }), ['maxPool2d', '[2, 3, 5, 5]', 'too small'], 'too small');
  await assertThrowsWith(() => maxPool2d(x.view([6, 25]), { kernel: 3 }), ['maxPool2d', 'rank 4'], 'rank');
  await assertThrowsWith(() => maxPool2d(x, { kernel: 0 }), ['maxPool2d', 'kernel'], 'kernel 0');
  await assertThrowsWith(() => globalAvgPool(x.view([6, 25])), ['globalAvgPool', 'rank 4'], 'rank');
});

test.run();
