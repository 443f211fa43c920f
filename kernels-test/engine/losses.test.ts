// Cross-entropy, top-k accuracy, gather and linear against float64 CPU references;
// gradients against finite differences. Tolerances stated per assertion.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { init, tensor, parameter, crossEntropy, topkCorrect, gather, linear, backward } from '../../src/index.js';
import { randn, rng, assertClose, numericGrad } from '../helpers.js';

const test = suite('losses');
test.before(async () => {
  await init();
});

function cpuCrossEntropy(x: ArrayLike<number>, labels: number[], cols: number): number {
  let total = 0;
  for (let r = 0; r < labels.length; r++) {
    let m = -Infinity;
    for (let c = 0; c < cols; c++) m = Math.max(m, x[r * cols + c]);
    let s = 0;
    for (let c = 0; c < cols; c++) s += Math.exp(x[r * cols + c] - m);
    total += Math.log(s) + m - x[r * cols + labels[r]];
  }
  return total / labels.length;
}

for (const [rows, cols] of [[1, 1], [7, 3], [33, 10], [4, 1000]]) {
  test(`crossEntropy [${rows}, ${cols}] forward and backward`, async () => {
    const x = randn(rows * cols, rows + cols, 3);
    const r = rng(rows);
    const labels = Array.from({ length: rows }, () => Math.floor(r() * cols));
    const tx = parameter(x, [rows, cols]);
    const loss = crossEntropy(tx, tensor(labels, [rows], 'i32'));
    assertClose([await loss.item()], [cpuCrossEntropy(x, labels, cols)], { atol: 1e-5, rtol: 1e-5 }, 'loss');
    backward(loss);
    const g = numericGrad((v) => [cpuCrossEntropy(v, labels, cols)], x, [1]);
    assertClose(await tx.grad!.toArray(), g, { atol: 1e-5, rtol: 1e-4 }, 'grad');
  });
}

test('crossEntropy gives NaN for a label outside [0, C)', async () => {
  const loss = crossEntropy(tensor([0, 1, 2, 3], [2, 2]), tensor([0, 5], [2], 'i32'));
  assert.ok(Number.isNaN(await loss.item()));
});

test('topkCorrect counts top-1 and top-5 hits, ties broken by class index', async () => {
  const logits = tensor([
    5, 1, 2, 3, 4, 0, // label 0 -> rank 0
    5, 1, 2, 3, 4, 0, // label 4 -> rank 1
    5, 1, 2, 3, 4, 0, // label 5 -> rank 5: not in top 5
    1, 1, 1, 1, 1, 1, // label 2, all tied -> rank 2
  ], [4, 6]);
  const counts = await topkCorrect(logits, tensor([0, 4, 5, 2], [4], 'i32'), [1, 3, 5]).toArray();
  assert.equal(Array.from(counts), [1, 3, 3]);
});

test('gather rows forward and scatter-add backward with repeated indices', async () => {
  const x = randn(5 * 3, 21);
  const idx = [4, 0, 4, 2];
  const tx = parameter(x, [5, 3]);
  const out = gather(tx, tensor(idx, [4], 'i32'));
  const cpu = (v: ArrayLike<number>) => idx.flatMap((i) => [v[i * 3], v[i * 3 + 1], v[i * 3 + 2]]);
  assertClose(await out.toArray(), cpu(x), { atol: 0, rtol: 0 }, 'gather');
  const w = randn(12, 22);
  backward(out, { gradient: tensor(w, [4, 3]) });
  assertClose(await tx.grad!.toArray(), numericGrad(cpu, x, w), { atol: 1e-5, rtol: 1e-5 }, 'gather grad');
});

test('linear = x·Wᵀ + b, gradients for x, W and b', async () => {
  const [n, i, o] = [5, 7, 3];
  const x = randn(n * i, 31);
  const W = randn(o * i, 32);
  const b = randn(o, 33);
  const cpu = (xv: ArrayLike<number>, Wv: ArrayLike<number>, bv: ArrayLike<number>) => {
    const out = new Float64Array(n * o);
    for (let r = 0; r < n; r++) for (let c = 0; c < o; c++) {
      let s = bv[c];
      for (let k = 0; k < i; k++) s += xv[r * i + k] * Wv[c * i + k];
      out[r * o + c] = s;
    }
    return out;
  };
  const [tx, tW, tb] = [parameter(x, [n, i]), parameter(W, [o, i]), parameter(b, [o])];
  const y = linear(tx, tW, tb);
  const tol = { atol: 1e-5, rtol: 1e-5 };
  assertClose(await y.toArray(), cpu(x, W, b), tol, 'linear');
  const w = randn(n * o, 34);
  backward(y, { gradient: tensor(w, [n, o]) });
  const btol = { atol: 1e-4, rtol: 1e-4 };
  assertClose(await tx.grad!.toArray(), numericGrad((v) => cpu(v, W, b), x, w), btol, 'dx');
  assertClose(await tW.grad!.toArray(), numericGrad((v) => cpu(x, v, b), W, w), btol, 'dW');
  assertClose(await tb.grad!.toArray(), numericGrad((v) => cpu(x, W, v), b, w), btol, 'db');
});

test.run();
