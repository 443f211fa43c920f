// Elementwise ops: forward against a float64 CPU reference, backward against central
// finite differences of that reference. Tolerances: forward atol 1e-5 / rtol 1e-5 (one f32
// rounding), backward atol 1e-4 / rtol 1e-4.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { init, tensor, parameter, add, sub, mul, div, relu, exp, log, sqrt, pow, clamp, addScalar, mulScalar, backward, fullLike, copy, type Tensor } from '../../src/index.js';
import { randn, prod, assertClose, numericGrad, broadcastMap } from '../helpers.js';

const test = suite('elementwise');
const FWD = { atol: 1e-5, rtol: 1e-5 };
const BWD = { atol: 1e-4, rtol: 1e-4 };

test.before(async () => {
  await init();
});

type Binary = (a: Tensor, b: Tensor) => Tensor;
const binaries: Array<[string, Binary, (x: number, y: number) => number]> = [
  ['add', add, (x, y) => x + y],
  ['sub', sub, (x, y) => x - y],
  ['mul', mul, (x, y) => x * y],
  ['div', div, (x, y) => x / y],
];
const shapePairs: Array<[number[], number[]]> = [
  [[1], [1]],
  [[7], [7]],
  [[33, 1], [1, 7]],
  [[2, 3, 4], [4]],
  [[1000], [1]],
  [[5, 1, 3], [4, 1]],
  [[8, 125], [8, 125]], // dense, a multiple of 4: the vec4 path
  // squeeze-excitation's channel scale: dims merged to [N·C, H·W], one value per row (ROWS),
  // on either side; a per-channel bias ([N, C, H·W] after merging); both operands broadcast
  [[2, 3, 4, 5], [2, 3, 1, 1]],
  [[2, 3, 1, 1], [2, 3, 4, 5]],
  [[2, 3, 4, 5], [1, 3, 1, 1]],
  [[2, 1, 4, 5], [2, 3, 1, 1]],
];

for (const [name, op, ref] of binaries) {
  for (const [as, bs] of shapePairs) {
    test(`${name} ${JSON.stringify(as)} ${JSON.stringify(bs)} forward and backward`, async () => {
      const a = randn(prod(as), 1);
      // keep divisors away from 0
      const b = randn(prod(bs), 2).map((v) => (name === 'div' ? Math.fround(Math.sign(v || 1) * (0.5 + Math.abs(v))) : v));
      const ta = parameter(a, as);
      const tb = parameter(b, bs);
      const out = op(ta, tb);
      const expected = broadcastMap(a, as, b, bs, ref);
      assert.equal([...out.shape], expected.shape);
      assertClose(await out.toArray(), expected.data, FWD, `${name} forward`);
      const w = randn(expected.data.length, 3);
      backward(out, { gradient: tensor(w, expected.shape) });
      const ga = numericGrad((x) => broadcastMap(x, as, b, bs, ref).data, a, w);
      const gb = numericGrad((y) => broadcastMap(a, as, y, bs, ref).data, b, w);
      assertClose(await ta.grad!.toArray(), ga, BWD, `${name} grad a`);
      assertClose(await tb.grad!.toArray(), gb, BWD, `${name} grad b`);
    });
  }
}

const unaries: Array<[string, (t: Tensor) => Tensor, (x: number) => number, (x: number) => number]> = [
  ['relu', relu, (x) => Math.max(x, 0), (x) => x],
  ['exp', exp, Math.exp, (x) => x],
  ['log', log, Math.log, (x) => Math.abs(x) + 0.1],
  ['sqrt', sqrt, Math.sqrt, (x) => Math.abs(x) + 0.1],
  ['pow3', (t) => pow(t, 3), (x) => x ** 3, (x) => x],
  ['pow2.5', (t) => pow(t, 2.5), (x) => x ** 2.5, (x) => Math.abs(x) + 0.1],
  ['pow-1', (t) => pow(t, -1), (x) => 1 / x, (x) => Math.sign(x || 1) * (Math.abs(x) + 0.5)],
  ['clamp', (t) => clamp(t, -0.5, 0.7), (x) => Math.min(Math.max(x, -0.5), 0.7), (x) => x],
  ['addScalar', (t) => addScalar(t, 2.5), (x) => x + 2.5, (x) => x],
  ['mulScalar', (t) => mulScalar(t, -3), (x) => -3 * x, (x) => x],
];

for (const [name, op, ref, domain] of unaries) {
  for (const n of [1, 7, 33, 1000]) {
    test(`${name} [${n}] forward and backward`, async () => {
      // keep values away from kinks (relu at 0, clamp at its bounds) for finite differences
      const x = randn(n, 10 + n).map((v) => Math.fround(domain(Math.abs(v) < 1e-3 ? v + 0.01 : v)));
      const tx = parameter(x, [n]);
      const out = op(tx);
      const expected = Array.from(x, ref);
      assertClose(await out.toArray(), expected, FWD, `${name} forward`);
      const w = randn(n, 4);
      backward(out, { gradient: tensor(w, [n]) });
      const g = numericGrad((v) => Array.from(v, ref), x, w);
      assertClose(await tx.grad!.toArray(), g, { atol: 2e-4, rtol: 2e-4 }, `${name} grad`);
    });
  }
}

test('fills and copies of dense tensors of every size (the vec4 path takes only ops of x or y)', async () => {
  for (const n of [3, 8, 1000]) {
    const t = tensor(randn(n, 5), [n]);
    assert.equal([...(await fullLike(t, 2.5).toArray())], new Array(n).fill(2.5), `fullLike [${n}]`);
    assert.equal([...(await copy(t).toArray())], [...(await t.toArray())], `copy [${n}]`);
  }
});

test('pow keeps PyTorch semantics for negative bases', async () => {
  const x = tensor([-2, -0.5, 0, 3], [4]);
  assertClose(await pow(x, 3).toArray(), [-8, -0.125, 0, 27], FWD, 'odd power');
  assertClose(await pow(x, 2).toArray(), [4, 0.25, 0, 9], FWD, 'even power');
  const frac = await pow(x, 0.5).toArray();
  assert.ok(Number.isNaN(frac[0]) && Number.isNaN(frac[1]), 'fractional power of a negative base is NaN');
});

test.run();
