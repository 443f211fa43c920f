// Reductions and shape ops: forward vs a float64 CPU reference, backward vs finite differences.
// Tolerances: forward atol 1e-5 + rtol 1e-5 (sums of up to 1000 terms: atol 1e-4), backward 1e-4.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { init, tensor, parameter, sum, mean, reshape, expand, permute, transpose, slice, concat, backward, type Tensor } from '../../src/index.js';
import { randn, prod, strides, assertClose, numericGrad } from '../helpers.js';

const test = suite('reduce-shape');
const FWD = { atol: 1e-4, rtol: 1e-5 };
const BWD = { atol: 1e-4, rtol: 1e-4 };

test.before(async () => {
  await init();
});

/** CPU reference: sum over axes (keepDims false). */
function cpuSum(x: ArrayLike<number>, shape: number[], axes: number[], scale = 1): Float64Array {
  const outShape = shape.filter((_, d) => !axes.includes(d));
  const out = new Float64Array(Math.max(prod(outShape), 1));
  const st = strides(shape);
  const ost = strides(outShape);
  for (let i = 0; i < x.length; i++) {
    let o = 0;
    let k = 0;
    for (let d = 0; d < shape.length; d++) {
      const c = Math.floor(i / st[d]) % shape[d];
      if (!axes.includes(d)) o += c * ost[k++];
    }
    out[o] += x[i] * scale;
  }
  return out;
}

const cases: Array<[number[], number[]]> = [
  [[7], [0]],
  [[1000], [0]],
  [[33, 7], [0]],
  [[33, 7], [1]],
  [[2, 3, 5, 7], [0, 2, 3]],
  [[4, 17, 3, 3], [1]],
  [[5, 1, 9], [1, 2]],
];

for (const [shape, axes] of cases) {
  for (const op of ['sum', 'mean'] as const) {
    test(`${op} ${JSON.stringify(shape)} over ${JSON.stringify(axes)}`, async () => {
      const x = randn(prod(shape), 5);
      const count = axes.reduce((n, d) => n * shape[d], 1);
      const scale = op === 'mean' ? 1 / count : 1;
      const tx = parameter(x, shape);
      const out = op === 'sum' ? sum(tx, axes) : mean(tx, axes);
      const expected = cpuSum(x, shape, axes, scale);
      assertClose(await out.toArray(), expected, FWD, `${op} forward`);
      const w = randn(expected.length, 6);
      backward(out, { gradient: tensor(w, out.shape) });
      assertClose(await tx.grad!.toArray(), numericGrad((v) => cpuSum(v, shape, axes, scale), x, w), BWD, `${op} grad`);
    });
  }
}

test('sum keepDims keeps reduced dims as 1', async () => {
  const t = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
  const s = sum(t, 1, true);
  assert.equal([...s.shape], [2, 1]);
  assertClose(await s.toArray(), [6, 15], FWD, 'values');
  assertClose(await sum(t).toArray(), [21], FWD, 'sum of all');
});

/** CPU permute. */
function cpuPermute(x: ArrayLike<number>, shape: number[], perm: number[]): Float64Array {
  const outShape = perm.map((p) => shape[p]);
  const st = strides(shape);
  const ost = strides(outShape);
  const out = new Float64Array(x.length);
  for (let o = 0; o < x.length; o++) {
    let i = 0;
    for (let d = 0; d < outShape.length; d++) i += (Math.floor(o / ost[d]) % outShape[d]) * st[perm[d]];
    out[o] = x[i];
  }
  return out;
}

test('permute and transpose, forward and backward', async () => {
  const shape = [2, 3, 5, 7];
  const perm = [2, 0, 3, 1];
  const x = randn(prod(shape), 7);
  const tx = parameter(x, shape);
  const out = permute(tx, perm);
  assert.equal([...out.shape], [5, 2, 7, 3]);
  assertClose(await out.toArray(), cpuPermute(x, shape, perm), FWD, 'permute');
  const w = randn(x.length, 8);
  backward(out, { gradient: tensor(w, out.shape) });
  assertClose(await tx.grad!.toArray(), numericGrad((v) => cpuPermute(v, shape, perm), x, w), BWD, 'permute grad');
  const t2 = transpose(tensor([1, 2, 3, 4, 5, 6], [2, 3]));
  assertClose(await t2.toArray(), [1, 4, 2, 5, 3, 6], FWD, 'transpose');
});

test('slice and concat, forward and backward', async () => {
  const a = randn(3 * 4 * 5, 9);
  const b = randn(3 * 2 * 5, 10);
  const ta = parameter(a, [3, 4, 5]);
  const tb = parameter(b, [3, 2, 5]);
  const cat = concat([ta, tb], 1);
  assert.equal([...cat.shape], [3, 6, 5]);
  const cpuCat = (x: ArrayLike<number>, y: ArrayLike<number>) => {
    const out: number[] = [];
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 20; j++) out.push(x[i * 20 + j]);
      for (let j = 0; j < 10; j++) out.push(y[i * 10 + j]);
    }
    return out;
  };
  assertClose(await cat.toArray(), cpuCat(a, b), FWD, 'concat');
  // slice rows 1..5 of axis 1 of the concatenation
  const sl = slice(cat, 1, 1, 5);
  const cpuSlice = (x: ArrayLike<number>, y: ArrayLike<number>) => {
    const c = cpuCat(x, y);
    const out: number[] = [];
    for (let i = 0; i < 3; i++) for (let j = 1; j < 5; j++) for (let k = 0; k < 5; k++) out.push(c[i * 30 + j * 5 + k]);
    return out;
  };
  assertClose(await sl.toArray(), cpuSlice(a, b), FWD, 'slice');
  const w = randn(sl.size, 11);
  backward(sl, { gradient: tensor(w, sl.shape) });
  assertClose(await ta.grad!.toArray(), numericGrad((v) => cpuSlice(v, b), a, w), BWD, 'grad a');
  assertClose(await tb.grad!.toArray(), numericGrad((v) => cpuSlice(a, v), b, w), BWD, 'grad b');
});

test('reshape is a view with -1 inference; expand broadcasts and sums back', async () => {
  const x = parameter([1, 2, 3, 4, 5, 6], [2, 3]);
  const r = reshape(x, [3, -1]);
  assert.equal([...r.shape], [3, 2]);
  const e = expand(tensor([1, 2, 3], [3, 1]), [3, 4]);
  assertClose(await e.toArray(), [1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3], FWD, 'expand');
  const ex = expand(reshape(x, [1, 6]), [4, 6]);
  backward(ex, { gradient: tensor(new Array(24).fill(1), [4, 6]) });
  assertClose(await x.grad!.toArray(), [4, 4, 4, 4, 4, 4], FWD, 'expand grad sums over the broadcast dim');
});

test('integer tensors survive shape ops bit-exactly', async () => {
  const big = [2147483647, -5, 16777217, 0];
  const t = tensor(big, [2, 2], 'i32');
  const p = permute(t, [1, 0]);
  assert.equal(Array.from(await p.toArray()), [2147483647, 16777217, -5, 0]);
  const c = concat([t, t], 0);
  assert.equal(Array.from(await c.toArray()), [...big, ...big]);
});

test.run();
