// The tuning object: tune() returns the previous tuning, withTuning() changes knobs for one
// call and restores them (also when the call throws), bad values are refused naming the knob,
// and a convolution's gradient runs under the tuning its forward ran with.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { init, runtime, tune, tuning, withTuning, conv2d, conv2dAlgorithm, parameter, backward, sum, DEFAULT_TUNING } from '../../src/index.js';
import { randn, assertClose, assertThrowsWith } from '../helpers.js';

const test = suite('tuning');
test.before(async () => {
  await init();
});

test('tune returns the previous tuning; withTuning restores it, also after a throw', () => {
  const before = tune({ winograd: 'never' });
  assert.is(tuning().winograd, 'never');
  tune(before);
  assert.equal(tuning(), before);
  const inside = withTuning({ matmulSubgroups: false, winogradTile: 2 }, () => ({ ...tuning() }));
  assert.is(inside.matmulSubgroups, false);
  assert.is(inside.winogradTile, 2);
  assert.equal(tuning(), before, 'restored');
  assert.throws(() => withTuning({ convSchedule: 'tiled' }, () => {
    throw new Error('boom');
  }), /boom/);
  assert.equal(tuning(), before, 'restored after a throw');
  assert.equal(Object.keys(DEFAULT_TUNING).sort(), Object.keys(tuning()).sort());
});

test('bad tuning values are refused naming the knob', async () => {
  await assertThrowsWith(() => tune({ winograd: 'sometimes' as never }), ['winograd', 'sometimes'], 'winograd');
  await assertThrowsWith(() => tune({ convDirectTile: { rows: 99, cgroups: 1, colt: 64 } }), ['convDirectTile'], 'tile');
});

test('a per-call tuning picks the algorithm, and the gradient runs under the forward tuning', async () => {
  const xShape = [2, 64, 12, 12];
  const wShape = [64, 64, 3, 3];
  const opts = { padding: 1 };
  const gemm = withTuning({ winograd: 'never' }, () => conv2dAlgorithm(xShape, wShape, opts, 'forward'));
  const forced = withTuning({ winograd: 'always', winogradTile: 2 }, () => conv2dAlgorithm(xShape, wShape, opts, 'forward'));
  assert.is(gemm, 'gemm');
  assert.is(forced, 'winograd-2x2');
  const x = parameter(randn(2 * 64 * 144, 1, 0.5), xShape);
  const w = parameter(randn(64 * 64 * 9, 2, 0.05), wShape);
  const rt = runtime();
  const grads = async (changes: Parameters<typeof withTuning>[0]) => {
    x.grad = null;
    w.grad = null;
    const loss = withTuning(changes, () => sum(conv2d(x, w, null, opts)));
    await rt.sync();
    rt.profiler.start();
    backward(loss); // outside withTuning: the rule must reuse the forward's tuning
    const kernels = (await rt.profiler.stop(rt)).map((k) => k.kernel);
    return [await x.grad!.toArray(), await w.grad!.toArray(), kernels] as const;
  };
  const [gx0, gw0, k0] = await grads({ winograd: 'never' });
  const [gx1, gw1, k1] = await grads({ winograd: 'always', winogradTile: 4 });
  assert.ok(!k0.some((k) => k.startsWith('conv2d/wino')), `GEMM gradients: ${k0.join(', ')}`);
  assert.ok(k1.includes('conv2d/wino_input') && k1.includes('conv2d/wino_dweight'), `Winograd gradients: ${k1.join(', ')}`);
  assertClose(gx1, gx0, { atol: 1e-3, rtol: 1e-3 }, 'input gradient, Winograd F(4x4) vs GEMM');
  assertClose(gw1, gw0, { atol: 2e-2, rtol: 1e-3 }, 'weight gradient, Winograd F(4x4) vs GEMM');
});

test.run();
