// Every entry of the elementwise op tables (UNARY_OPS, BINARY_OPS) against its own CPU
// references: the forward against `cpu`, the GPU gradient against `dxCpu`/`dyCpu`, and those
// CPU gradients against central finite differences of `cpu` (so a wrong derivative entry
// fails too). A new table entry is tested here without touching this file.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { init, parameter, unary, binary, backward, tensor, UNARY_OPS, BINARY_OPS, type UnaryOp, type BinaryOp, type UnaryOpName, type BinaryOpName } from '../../src/index.js';
import { rng, prod, assertClose, numericGrad, broadcastMap } from '../helpers.js';

const test = suite('elementwise table');
const FWD = { atol: 1e-5, rtol: 1e-5 };
const BWD = { atol: 1e-4, rtol: 1e-4 };

test.before(async () => {
  await init();
});

/** Values spread over the entry's test domain, kept off the kinks (relu at 0, clamp at its bounds). */
function sample(n: number, seed: number, domain: readonly [number, number] = [-3, 3]): Float64Array {
  const r = rng(seed);
  return Float64Array.from({ length: n }, () => {
    let v = domain[0] + (domain[1] - domain[0]) * r();
    if (Math.abs(v - Math.round(v)) < 0.02) v += 0.05;
    return Math.fround(v);
  });
}

for (const [name, entry] of Object.entries(UNARY_OPS) as [UnaryOpName, UnaryOp][]) {
  const alpha = entry.test?.alpha ?? 0;
  const beta = entry.test?.beta ?? 0;
  const f = (x: number) => entry.cpu(x, alpha, beta);
  for (const shape of [[7], [8, 125]]) {
    test(`${name} ${JSON.stringify(shape)}: forward, GPU gradient and the entry's derivative`, async () => {
      const n = prod(shape);
      const x = sample(n, 11 + n, entry.test?.domain);
      const gOut = sample(n, 17 + n);
      const tx = parameter(x, shape);
      const y = unary(name, tx, alpha, beta);
      assertClose(await y.toArray(), Array.from(x, f), FWD, `${name} forward`);
      backward(y, { gradient: tensor(gOut, shape) });
      const expected = Array.from(x, (v, i) => entry.dxCpu(gOut[i], v, f(v), alpha, beta));
      assertClose(await tx.grad!.toArray(), expected, BWD, `${name} GPU gradient vs dxCpu`);
      const numeric = numericGrad((xs) => Array.from(xs, f), x, gOut);
      assertClose(expected, numeric, { atol: 1e-4, rtol: 1e-4 }, `${name} dxCpu vs finite differences`);
    });
  }
}

for (const [name, entry] of Object.entries(BINARY_OPS) as [BinaryOpName, BinaryOp][]) {
  for (const [as, bs] of [[[7], [7]], [[33, 1], [1, 7]], [[8, 125], [8, 125]]]) {
    test(`${name} ${JSON.stringify(as)} ${JSON.stringify(bs)}: forward, GPU gradients and the entry's derivatives`, async () => {
      const domain = (entry as BinaryOp).test?.domain;
      const a = sample(prod(as), 3 + prod(as), domain);
      const b = sample(prod(bs), 5 + prod(bs), domain);
      const ta = parameter(a, as);
      const tb = parameter(b, bs);
      const y = binary(name, ta, tb);
      const ref = broadcastMap(a, as, b, bs, entry.cpu);
      assert.equal(y.shape, ref.shape);
      assertClose(await y.toArray(), ref.data, FWD, `${name} forward`);
      const gOut = sample(ref.data.length, 23);
      backward(y, { gradient: tensor(gOut, ref.shape) });
      const numA = numericGrad((xs) => broadcastMap(xs, as, b, bs, entry.cpu).data, a, gOut);
      const numB = numericGrad((ys) => broadcastMap(a, as, ys, bs, entry.cpu).data, b, gOut);
      assertClose(await ta.grad!.toArray(), numA, BWD, `${name} d/da`);
      assertClose(await tb.grad!.toArray(), numB, BWD, `${name} d/db`);
      // The entry's CPU partials (the reference other tests use) agree with finite differences too.
      const ga = broadcastMap(a, as, b, bs, (x, yv) => entry.dxCpu(1, x, yv)).data;
      const gb = broadcastMap(a, as, b, bs, (x, yv) => entry.dyCpu(1, x, yv)).data;
      const onesA = numericGrad((xs) => broadcastMap(xs, as, b, bs, entry.cpu).data, a, new Float64Array(ga.length).fill(1));
      if (prod(as) === ga.length) assertClose(ga, onesA, { atol: 1e-4, rtol: 1e-4 }, `${name} dxCpu vs finite differences`);
      const onesB = numericGrad((ys) => broadcastMap(a, as, ys, bs, entry.cpu).data, b, new Float64Array(gb.length).fill(1));
      if (prod(bs) === gb.length) assertClose(gb, onesB, { atol: 1e-4, rtol: 1e-4 }, `${name} dyCpu vs finite differences`);
    });
  }
}

test.run();
