// conv2d parity with PyTorch (fixtures from tools/gen_conv_fixtures.py, float64 torch results
// from float32 inputs): forward and the gradients of sum(out * grad_out) with respect to the
// input, weight and bias, for both kernel schedules, and with Winograd forced (it applies to
// the 3x3 stride-1 fixtures; the others take the GEMM again).
// Tolerances (stated): relative error max|a - e| / max|e| below 1e-4 for the output and below
// 1e-3 for the gradients, plus element-wise |a - e| <= 1e-4 * max|e| + 1e-3 * |e|.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  init, tensor, parameter, backward, conv2d, tune, type ConvStrategy, type Tuning,
} from '../../src/index.js';
import { assertClose } from '../helpers.js';
import { relError } from './reference.js';

interface Fixture {
  name: string;
  x_shape: number[]; w_shape: number[];
  stride: [number, number]; padding: [number, number]; dilation: [number, number]; groups: number;
  x: number[]; weight: number[]; bias: number[] | null;
  out_shape: number[]; out: number[]; grad_out: number[];
  dx: number[]; dweight: number[]; dbias: number[] | null;
}

// Built tests live in build/test/conv/; the fixtures stay in kernels-test/conv/fixtures/.
const dir = fileURLToPath(new URL('../../../kernels-test/conv/fixtures/', import.meta.url));
const fixtures: Fixture[] = readdirSync(dir).filter((f) => f.endsWith('.json')).sort()
  .map((f) => JSON.parse(readFileSync(dir + f, 'utf8')) as Fixture);

const test = suite('conv2d-torch');

let before: Tuning;
test.before(async () => {
  await init();
  before = tune({ convDirectTile: { rows: 4, cgroups: 1, colt: 16 } });
});
test.after(() => {
  tune(before);
});

test('fixtures are present', () => {
  assert.ok(fixtures.length >= 6, `expected the PyTorch fixtures in ${dir}`);
});

function check(actual: ArrayLike<number>, expected: number[], rel: number, what: string): void {
  let m = 0;
  for (const v of expected) m = Math.max(m, Math.abs(v));
  const err = relError(actual, expected);
  assert.ok(err < rel, `${what}: relative error ${err.toExponential(2)} >= ${rel}`);
  assertClose(actual, expected, { atol: 1e-4 * m, rtol: rel }, what);
}

for (const f of fixtures) {
  test(`torch parity: ${f.name}`, async () => {
    const runs: [ConvStrategy, Tuning['winograd']][] = [['tiled', 'never'], ['direct', 'never'], ['direct', 'always']];
    for (const [strategy, wino] of runs) {
      tune({ convSchedule: strategy, winograd: wino });
      const s = `${strategy}${wino === 'always' ? ' winograd' : ''}`;
      const x = parameter(f.x, f.x_shape);
      const w = parameter(f.weight, f.w_shape);
      const b = f.bias ? parameter(f.bias, [f.w_shape[0]]) : null;
      const out = conv2d(x, w, b, { stride: f.stride, padding: f.padding, dilation: f.dilation, groups: f.groups });
      assert.equal([...out.shape], f.out_shape, `${f.name} ${s}: output shape`);
      check(await out.toArray(), f.out, 1e-4, `${f.name} ${s} forward`);
      backward(out, { gradient: tensor(f.grad_out, f.out_shape) });
      check(await x.grad!.toArray(), f.dx, 1e-3, `${f.name} ${s} dx`);
      check(await w.grad!.toArray(), f.dweight, 1e-3, `${f.name} ${s} dweight`);
      if (b) check(await b.grad!.toArray(), f.dbias!, 1e-3, `${f.name} ${s} dbias`);
    }
  });
}

test.run();
