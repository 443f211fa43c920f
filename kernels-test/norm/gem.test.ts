// GeM pooling: forward against a float64 CPU reference; gradients w.r.t. x and w.r.t. p
// against central finite differences of that reference; p = 1 equals average pooling and
// p = inf equals max pooling (of the clamped input); p read from a GPU tensor or static.
// Tolerances: forward atol 1e-5 / rtol 1e-4 (f32 pow = exp2(p log2 x)), gradients 1e-3.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  init, tensor, parameter, gem, globalAvgPool, maxPool2d, backward, fullLike, noGrad, tapeLength,
} from '../../src/index.js';
import { randn, prod, assertClose, numericGrad, assertThrowsWith } from '../helpers.js';

const test = suite('gem');
const FWD = { atol: 1e-5, rtol: 1e-4 };
const BWD = { atol: 1e-3, rtol: 1e-3 };
const EPS = 1e-6;

test.before(async () => {
  await init();
});

type Shape4 = [number, number, number, number];

function gemRef(x: ArrayLike<number>, [n, c, h, w]: Shape4, p: number): Float64Array {
  const len = h * w;
  const y = new Float64Array(n * c);
  for (let r = 0; r < n * c; r++) {
    if (p === Infinity) {
      let m = -Infinity;
      for (let i = 0; i < len; i++) m = Math.max(m, Math.max(x[r * len + i], EPS));
      y[r] = m;
    } else {
      let acc = 0;
      for (let i = 0; i < len; i++) acc += Math.max(x[r * len + i], EPS) ** p;
      y[r] = (acc / len) ** (1 / p);
    }
  }
  return y;
}

/**
 * A third of the values clamped (well below eps, so that finite differences stay on one side
 * of the clamp; exact zeros are tested separately), the rest >= 0.05.
 */
function activations(n: number, seed: number): Float64Array {
  return randn(n, seed).map((v, i) => Math.fround(i % 3 === 0 ? -Math.abs(v) - 0.1 : Math.abs(v) + 0.05));
}

const shapes: Shape4[] = [[1, 1, 7, 7], [2, 3, 13, 13], [2, 17, 1, 1], [1, 3, 33, 33], [3, 2, 5, 3]];
for (const s of shapes) {
  for (const p of [3, 1, 2.5]) {
    test(`gem ${JSON.stringify(s)} p=${p} (learnable): forward, dx and dp`, async () => {
      const [n, c] = s;
      const x = activations(prod(s), prod(s) + p * 10);
      const tx = parameter(x, s);
      const tp = parameter([p], [1]);
      const out = gem(tx, tp);
      assert.equal([...out.shape], [n, c]);
      assertClose(await out.toArray(), gemRef(x, s, p), FWD, 'forward');
      const g = randn(n * c, 9);
      backward(out, { gradient: tensor(g, [n, c]) });
      const fdEps = 1e-5;
      if (x.length <= 3000) assertClose(await tx.grad!.toArray(), numericGrad((v) => gemRef(v, s, p), x, g, fdEps), BWD, 'grad x');
      assertClose(await tp.grad!.toArray(), numericGrad((v) => gemRef(x, s, v[0]), Float64Array.of(p), g, 1e-5), BWD, 'grad p');
    });
  }
}

test('gem: dp when x needs no gradient (p-finetuning on a frozen trunk)', async () => {
  const s: Shape4 = [4, 17, 7, 7];
  const x = activations(prod(s), 3);
  const tp = parameter([3], [1]);
  const out = gem(tensor(x, s), tp);
  const g = randn(4 * 17, 4);
  backward(out, { gradient: tensor(g, [4, 17]) });
  assertClose(await tp.grad!.toArray(), numericGrad((v) => gemRef(x, s, v[0]), Float64Array.of(3), g, 1e-5), BWD, 'grad p');
});

test('gem [8, 2048, 7, 7] (ResNet-50 layer4 at 224, one thread per row): forward, dx, dp', async () => {
  const s: Shape4 = [8, 2048, 7, 7];
  const rows = 8 * 2048;
  const len = 49;
  const p = 3;
  const x = activations(prod(s), 21);
  const tx = parameter(x, s);
  const tp = parameter([p], [1]);
  const out = gem(tx, tp);
  const e = gemRef(x, s, p);
  assertClose(await out.toArray(), e, FWD, 'forward');
  const g = randn(rows, 22);
  backward(out, { gradient: tensor(g, [8, 2048]) });
  // analytic: dx_i = g e / (m len) xc_i^(p-1) where x_i >= eps; dp = sum g e (S/(p m) - ln m / p^2)
  const dx = new Float64Array(x.length);
  let dp = 0;
  for (let r = 0; r < rows; r++) {
    const m = e[r] ** p;
    let sl = 0;
    for (let i = 0; i < len; i++) {
      const xc = Math.max(x[r * len + i], EPS);
      sl += xc ** p * Math.log(xc);
      if (x[r * len + i] >= EPS) dx[r * len + i] = (g[r] * e[r]) / (m * len) * xc ** (p - 1);
    }
    dp += g[r] * e[r] * (sl / len / (p * m) - Math.log(m) / (p * p));
  }
  assertClose(await tx.grad!.toArray(), dx, BWD, 'grad x');
  assertClose(await tp.grad!.toArray(), [dp], BWD, 'grad p');
});

test('gem: static p (number) differentiates x only', async () => {
  const s: Shape4 = [2, 3, 7, 7];
  const x = activations(prod(s), 5);
  const tx = parameter(x, s);
  const out = gem(tx, 3);
  assertClose(await out.toArray(), gemRef(x, s, 3), FWD, 'forward');
  const g = randn(6, 6);
  backward(out, { gradient: tensor(g, [2, 3]) });
  assertClose(await tx.grad!.toArray(), numericGrad((v) => gemRef(v, s, 3), x, g, 1e-5), BWD, 'grad x');
});

test('gem p = 1 equals average pooling (positive input)', async () => {
  const s: Shape4 = [2, 17, 13, 13];
  const x = randn(prod(s), 8).map((v) => Math.fround(Math.abs(v) + 0.01));
  const tx = tensor(x, s);
  const avg = await globalAvgPool(tx).toArray();
  assertClose(await gem(tx, 1).toArray(), avg, FWD, 'static p = 1');
  assertClose(await gem(tx, tensor([1], [1])).toArray(), avg, FWD, 'tensor p = 1');
});

for (const fromTensor of [false, true]) {
  test(`gem p = inf (${fromTensor ? 'inf held in a GPU tensor' : 'static Infinity'}) equals max pooling: forward and backward`, async () => {
    const s: Shape4 = [2, 3, 13, 13];
    const x = activations(prod(s), 12);
    const tx = parameter(x, s);
    const p = fromTensor ? noGrad(() => fullLike(parameter([1], [1]), Infinity)) : Infinity;
    const out = gem(tx, p);
    const ref = gemRef(x, s, Infinity);
    assertClose(await out.toArray(), ref, { atol: 0, rtol: 0 }, 'forward');
    const mp = await maxPool2d(tensor(x, s), { kernel: 13 }).toArray();
    assertClose(await out.toArray(), mp, { atol: 0, rtol: 0 }, 'vs maxPool2d');
    const g = randn(6, 13);
    backward(out, { gradient: tensor(g, [2, 3]) });
    assertClose(await tx.grad!.toArray(), numericGrad((v) => gemRef(v, s, Infinity), x, g, 1e-5), BWD, 'grad x');
  });
}

test('gem: eps clamps (all-negative row pools to eps, gradient 0 there)', async () => {
  const s: Shape4 = [1, 2, 3, 3];
  // row 0 all clamped; row 1 has exact zeros (ReLU outputs): below eps, no gradient there
  const x = Array.from({ length: 18 }, (_, i) => (i < 9 ? -1 - i : i % 2 ? 0 : 0.5 + i / 10));
  const tx = parameter(x, s);
  const tp = parameter([3], [1]);
  const out = gem(tx, tp);
  const y = await out.toArray();
  assertClose([y[0]], [EPS], { atol: 1e-9, rtol: 1e-4 }, 'clamped row');
  backward(out, { gradient: tensor([1, 1], [1, 2]) });
  const gx = await tx.grad!.toArray();
  assert.ok(gx.slice(0, 9).every((v) => v === 0), 'no gradient through the clamp');
  assert.ok(gx.every((v, i) => (x[i] > 0 ? v > 0 : v === 0)), 'gradient only where x >= eps');
});

test('gem: no tape node under noGrad; clear errors', async () => {
  const before = tapeLength();
  noGrad(() => gem(parameter(activations(50, 1), [1, 2, 5, 5]), parameter([3], [1])));
  assert.is(tapeLength(), before);
  const x = tensor(new Float32Array(2 * 3 * 4 * 4), [2, 3, 4, 4]);
  await assertThrowsWith(() => gem(x, tensor([3, 3], [2])), ['gem', 'one-element', '[2]'], 'p shape');
  await assertThrowsWith(() => gem(x, 0), ['gem', 'positive'], 'p = 0');
  await assertThrowsWith(() => gem(x.view([6, 16]), 3), ['gem', 'rank 4'], 'rank');
});

test.run();
