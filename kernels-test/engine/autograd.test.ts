// Autograd: diamond graphs, each node once, pruning, gradient accumulation, SGD against a
// CPU reference, a small MLP that learns, and a buffer pool that stops growing.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  init, runtime, tensor, parameter, add, mul, relu, linear, crossEntropy, sum, record, backward, grad, noGrad,
  tidy, tapeLength, SGD, mulScalar, type Tensor,
} from '../../src/index.js';
import { randn, rng, assertClose } from '../helpers.js';

const test = suite('autograd');
test.before(async () => {
  await init();
});

test('diamond graph: a tensor used twice gets the summed gradient, each node runs once', async () => {
  const x = parameter([1, 2, 3], [3]);
  let calls = 0;
  // y = identity(x) counted, used by two branches: z = y*y + 3*y
  const y = mulScalar(x, 1);
  const counted = mulScalar(y, 1);
  record('count', [y], [counted], ([g]) => {
    calls++;
    return [mulScalar(g!, 1)];
  });
  const z = sum(add(mul(counted, counted), mulScalar(counted, 3)));
  backward(z);
  assertClose(await x.grad!.toArray(), [5, 7, 9], { atol: 1e-6, rtol: 0 }, 'dz/dx = 2x + 3');
  assert.is(calls, 1, 'the shared node ran once');
  assert.is(tapeLength(), 0, 'tape cleared after backward');
});

test('grad() prunes to the requested leaves and leaves .grad alone', async () => {
  const a = parameter([2], [1]);
  const b = parameter([3], [1]);
  const out = sum(mul(a, b));
  const [ga] = grad(out, [a]);
  assertClose(await ga!.toArray(), [3], { atol: 0, rtol: 0 }, 'd/da = b');
  assert.is(a.grad, null);
  assert.is(b.grad, null);
});

test('gradients accumulate across backward calls (gradient accumulation)', async () => {
  const w = parameter([1, 1], [2]);
  for (let i = 0; i < 3; i++) backward(sum(mulScalar(w, 2)));
  assertClose(await w.grad!.toArray(), [6, 6], { atol: 0, rtol: 0 }, 'three accumulations of 2');
});

test('noGrad records nothing', () => {
  const w = parameter([1], [1]);
  const y = noGrad(() => mulScalar(w, 2));
  assert.is(y.requiresGrad, false);
  assert.is(tapeLength(), 0);
});

test('SGD with momentum and weight decay matches PyTorch semantics (CPU reference), scalar and vec4 kernels', async () => {
  const [lr, mom, wd] = [0.1, 0.9, 0.01];
  // sizes that are not multiples of 4 take the scalar kernel, the others the vec4 one
  for (const [si, n] of [3, 8, 1030, 1028].entries()) {
    const p0 = randn(n, 70 + si);
    const grads = [0, 1, 2].map((k) => randn(n, 80 + 3 * si + k));
    const p = parameter(p0, [n]);
    const opt = new SGD([{ params: [p], lr, momentum: mom, weightDecay: wd }]);
    const ref = [...p0];
    const v = new Array<number>(n).fill(0);
    grads.forEach((g, step) => {
      p.grad = tensor(g, [n]);
      opt.step();
      opt.zeroGrad();
      for (let i = 0; i < n; i++) {
        const d = g[i] + wd * ref[i];
        v[i] = step === 0 ? d : mom * v[i] + d;
        ref[i] -= lr * v[i];
      }
    });
    assertClose(await p.toArray(), ref, { atol: 1e-6, rtol: 1e-5 }, `${n} parameters after 3 steps`);
  }
});

test('SGD.dispose frees the momentum buffers and refuses to step afterwards', async () => {
  const rt = runtime();
  const p = parameter(randn(4096, 91), [4096]);
  await rt.sync();
  const before = rt.pool.getStats().bytesInUse;
  const opt = new SGD([{ params: [p], lr: 0.1, momentum: 0.9 }]);
  assert.ok(rt.pool.getStats().bytesInUse >= before + 4096 * 4, 'the momentum buffer is allocated up front');
  p.grad = tensor(randn(4096, 92), [4096]);
  opt.step();
  opt.zeroGrad();
  assert.ok(opt.momentumBuffer(p), 'a velocity after a step');
  opt.dispose();
  assert.is(rt.pool.getStats().bytesInUse, before, 'back to the bytes in use before the optimizer');
  assert.is(opt.momentumBuffer(p), undefined);
  p.grad = tensor(randn(4096, 93), [4096]);
  assert.throws(() => opt.step(), /step\(\) after dispose/);
  p.grad.dispose();
  p.grad = null;
  p.dispose();
});

test('parameter groups use their own lr and decay', async () => {
  const a = parameter([1], [1]);
  const b = parameter([1], [1]);
  const opt = new SGD([{ params: [a], lr: 0.1, weightDecay: 1 }, { params: [b], lr: 1 }]);
  a.grad = tensor([1], [1]);
  b.grad = tensor([1], [1]);
  opt.step();
  assertClose(await a.toArray(), [1 - 0.1 * 2], { atol: 1e-7, rtol: 0 }, 'group 0');
  assertClose(await b.toArray(), [0], { atol: 1e-7, rtol: 0 }, 'group 1');
});

test('a small MLP learns a toy problem, and the pool stops growing after step 1', async () => {
  // Two interleaved spirals-lite: class = sign(x0 * x1) (XOR-like quadrants), 2-16-2 MLP.
  const n = 64;
  const r = rng(42);
  const xs: number[] = [];
  const ys: number[] = [];
  for (let i = 0; i < n; i++) {
    const a = r() * 2 - 1;
    const b = r() * 2 - 1;
    xs.push(a, b);
    ys.push(a * b > 0 ? 1 : 0);
  }
  const x = tensor(xs, [n, 2]);
  const y = tensor(ys, [n], 'i32');
  const W1 = parameter(randn(32, 1, 0.8), [16, 2], 'W1');
  const b1 = parameter(new Array(16).fill(0), [16], 'b1');
  const W2 = parameter(randn(32, 2, 0.3), [2, 16], 'W2');
  const b2 = parameter([0, 0], [2], 'b2');
  const opt = new SGD([{ params: [W1, b1, W2, b2], lr: 0.5, momentum: 0.9 }]);
  const pool = runtime().pool;
  let created = 0;
  let lossValue = Infinity;
  for (let step = 0; step < 300; step++) {
    const loss = tidy(() => {
      const l = crossEntropy(linear(relu(linear(x, W1, b1)), W2, b2), y);
      backward(l);
      return l;
    });
    opt.step();
    opt.zeroGrad();
    if (step === 0) {
      await runtime().sync();
      created = pool.getStats().buffersCreated;
    }
    if (step === 299) lossValue = await loss.item();
    loss.dispose();
  }
  await runtime().sync();
  assert.ok(lossValue < 0.15, `loss after 300 steps ${lossValue} should be < 0.15`);
  assert.is(pool.getStats().buffersCreated, created, 'no new GPU buffers after the first training step (momentum buffers are allocated up front)');
});

test('tidy disposes intermediates but keeps what it returns', () => {
  let inner: Tensor | null = null;
  const kept = tidy(() => {
    inner = mulScalar(tensor([1, 2], [2]), 2);
    return mulScalar(inner, 2);
  });
  assert.ok(inner!.disposed);
  assert.not.ok(kept.disposed);
});

test.run();
