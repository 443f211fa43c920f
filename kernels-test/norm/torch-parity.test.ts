// PyTorch parity for batchnorm2d (train + eval, running stats after the step), maxPool2d,
// GeM (with the gradient w.r.t. p) and l2normalize, on fixtures written by
// tools/gen_norm_fixtures.py (torch 1.13, float32). Tolerances: forward atol 1e-5 / rtol 1e-4,
// gradients atol 1e-4 / rtol 1e-3 (element-wise, |ours - torch| <= atol + rtol |torch|).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { init, tensor, parameter, batchnorm2d, maxPool2d, gem, l2normalize, backward } from '../../src/index.js';
import { assertClose } from '../helpers.js';

const test = suite('torch-parity');
const FWD = { atol: 1e-5, rtol: 1e-4 };
const BWD = { atol: 1e-4, rtol: 1e-3 };

// tests run from build/test/norm/; the fixtures stay in the source tree
const dir = new URL('../../../kernels-test/norm/fixtures/', import.meta.url);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Case = Record<string, any>;
function load(name: string): Case[] {
  return (JSON.parse(readFileSync(new URL(name, dir), 'utf8')) as { cases: Case[] }).cases;
}

test.before(async () => {
  await init();
});

for (const [i, c] of load('batchnorm.json').entries()) {
  test(`batchnorm2d #${i} ${JSON.stringify(c.shape)} ${c.training ? 'train' : 'eval'}`, async () => {
    const ch = c.shape[1];
    const x = parameter(c.x, c.shape);
    const w = parameter(c.weight, [ch]);
    const b = parameter(c.bias, [ch]);
    const rm = tensor(c.runningMean, [ch]);
    const rv = tensor(c.runningVar, [ch]);
    const out = batchnorm2d(x, w, b, rm, rv, { training: c.training, momentum: c.momentum, eps: c.eps });
    assertClose(await out.toArray(), c.out, FWD, 'out');
    assertClose(await rm.toArray(), c.runningMeanAfter, FWD, 'running mean');
    assertClose(await rv.toArray(), c.runningVarAfter, FWD, 'running var');
    backward(out, { gradient: tensor(c.g, c.shape) });
    assertClose(await x.grad!.toArray(), c.dx, BWD, 'dx');
    assertClose(await w.grad!.toArray(), c.dweight, BWD, 'dweight');
    assertClose(await b.grad!.toArray(), c.dbias, BWD, 'dbias');
  });
}

for (const [i, c] of load('maxpool.json').entries()) {
  test(`maxPool2d #${i} ${JSON.stringify(c.shape)} k${c.kernel} s${c.stride} p${c.padding}`, async () => {
    const x = parameter(c.x, c.shape);
    const out = maxPool2d(x, { kernel: c.kernel, stride: c.stride, padding: c.padding });
    assert.equal([...out.shape], c.outShape);
    // a selection: bit-exact (the JSON holds 9 significant digits, which round-trip float32)
    assertClose(await out.toArray(), (c.out as number[]).map(Math.fround), { atol: 0, rtol: 0 }, 'out');
    backward(out, { gradient: tensor(c.g, c.outShape) });
    assertClose(await x.grad!.toArray(), c.dx, { atol: 1e-6, rtol: 1e-6 }, 'dx');
  });
}

for (const [i, c] of load('gem.json').entries()) {
  test(`gem #${i} ${JSON.stringify(c.shape)} p=${c.p}`, async () => {
    const x = parameter(c.x, c.shape);
    const p = parameter([c.p], [1]);
    const out = gem(x, p, { eps: c.eps });
    assertClose(await out.toArray(), c.out, FWD, 'out');
    backward(out, { gradient: tensor(c.g, out.shape) });
    assertClose(await x.grad!.toArray(), c.dx, BWD, 'dx');
    assertClose(await p.grad!.toArray(), c.dp, BWD, 'dp');
  });
}

for (const [i, c] of load('l2n.json').entries()) {
  test(`l2normalize #${i} ${JSON.stringify(c.shape)}`, async () => {
    const x = parameter(c.x, c.shape);
    const out = l2normalize(x);
    assertClose(await out.toArray(), c.out, FWD, 'out');
    backward(out, { gradient: tensor(c.g, c.shape) });
    assertClose(await x.grad!.toArray(), c.dx, BWD, 'dx');
  });
}

test.run();
