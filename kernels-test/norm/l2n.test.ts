// l2normalize: y = x / (||x||_2 + 1e-6) per row; forward against float64, backward against
// central finite differences (small shapes) or the float64 analytic gradient (2048-d rows).
// Tolerances: forward atol/rtol 1e-5, gradients 1e-4 (relative to the gradient scale 1/||x||).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { init, tensor, parameter, l2normalize, backward } from '../../src/index.js';
import { randn, assertClose, numericGrad, assertThrowsWith } from '../helpers.js';

const test = suite('l2n');
const FWD = { atol: 1e-5, rtol: 1e-5 };
const BWD = { atol: 1e-4, rtol: 1e-4 };

test.before(async () => {
  await init();
});

function l2nRef(x: ArrayLike<number>, n: number, d: number): Float64Array {
  const y = new Float64Array(n * d);
  for (let r = 0; r < n; r++) {
    let ss = 0;
    for (let i = 0; i < d; i++) ss += x[r * d + i] ** 2;
    const den = Math.sqrt(ss) + 1e-6;
    for (let i = 0; i < d; i++) y[r * d + i] = x[r * d + i] / den;
  }
  return y;
}

function l2nGrad(x: ArrayLike<number>, n: number, d: number, g: ArrayLike<number>): Float64Array {
  const dx = new Float64Array(n * d);
  for (let r = 0; r < n; r++) {
    let ss = 0;
    let gx = 0;
    for (let i = 0; i < d; i++) {
      ss += x[r * d + i] ** 2;
      gx += g[r * d + i] * x[r * d + i];
    }
    const norm = Math.sqrt(ss);
    const den = norm + 1e-6;
    for (let i = 0; i < d; i++) dx[r * d + i] = g[r * d + i] / den - (norm > 0 ? (x[r * d + i] * gx) / (den * den * norm) : 0);
  }
  return dx;
}

for (const [n, d] of [[1, 1], [1, 7], [3, 17], [2, 33], [5, 300], [8, 2048], [1, 2049]]) {
  test(`l2normalize [${n}, ${d}]: forward and backward`, async () => {
    const x = randn(n * d, n * 100 + d, 0.5);
    const tx = parameter(x, [n, d]);
    const out = l2normalize(tx);
    assertClose(await out.toArray(), l2nRef(x, n, d), FWD, 'forward');
    const g = randn(n * d, 3);
    backward(out, { gradient: tensor(g, [n, d]) });
    const analytic = l2nGrad(x, n, d, g);
    // the gradient scales as 1/||x||: compare relative to it
    assertClose(await tx.grad!.toArray(), analytic, BWD, 'grad x');
    if (n * d <= 2000) assertClose(analytic, numericGrad((v) => l2nRef(v, n, d), x, g), BWD, 'analytic vs finite differences');
  });
}

test('l2normalize: a zero row stays zero, its gradient is g / 1e-6 (like PyTorch)', async () => {
  const x = [0, 0, 0, 3, 4, 0];
  const tx = parameter(x, [2, 3]);
  const out = l2normalize(tx);
  assertClose(await out.toArray(), l2nRef(x, 2, 3), FWD, 'forward');
  backward(out, { gradient: tensor([1, 2, 3, 0, 0, 1], [2, 3]) });
  assertClose(await tx.grad!.toArray(), l2nGrad(x, 2, 3, [1, 2, 3, 0, 0, 1]), { atol: 1e-4, rtol: 1e-5 }, 'grad');
});

test('clear errors', async () => {
  await assertThrowsWith(() => l2normalize(tensor([1, 2, 3], [3])), ['l2normalize', 'rank 2'], 'rank');
  assert.ok(true);
});

test.run();
