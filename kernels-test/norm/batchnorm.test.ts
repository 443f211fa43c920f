// batchnorm2d (training and eval), foldBatchNorm and the fused scaleShift: forward against a
// float64 CPU reference, backward against central finite differences of that reference
// (small shapes) or against the float64 analytic gradient (shapes with several reduction
// chunks per channel, where finite differences would be slow). Running-stat updates checked.
// Tolerances: forward atol/rtol 1e-4 (normalized values are O(1); statistics are f32 sums),
// gradients atol/rtol 1e-3 (finite differences of f32-rounded data).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  init, tensor, parameter, batchnorm2d, foldBatchNorm, scaleShift, backward, noGrad,
} from '../../src/index.js';
import { randn, prod, assertClose, numericGrad, assertThrowsWith } from '../helpers.js';

const test = suite('batchnorm');
const FWD = { atol: 1e-4, rtol: 1e-4 };
const BWD = { atol: 1e-3, rtol: 1e-3 };
const EPS = 1e-5;

test.before(async () => {
  await init();
});

type Shape4 = [number, number, number, number];

/** Per-channel batch mean and biased variance (float64). */
function batchStats(x: ArrayLike<number>, [n, c, h, w]: Shape4): { mean: Float64Array; variance: Float64Array } {
  const hw = h * w;
  const mean = new Float64Array(c);
  const variance = new Float64Array(c);
  for (let ch = 0; ch < c; ch++) {
    let s = 0;
    for (let b = 0; b < n; b++) for (let i = 0; i < hw; i++) s += x[(b * c + ch) * hw + i];
    const mu = s / (n * hw);
    let v = 0;
    for (let b = 0; b < n; b++) for (let i = 0; i < hw; i++) v += (x[(b * c + ch) * hw + i] - mu) ** 2;
    mean[ch] = mu;
    variance[ch] = v / (n * hw);
  }
  return { mean, variance };
}

/** y = (x - mean) / sqrt(var + eps) * w + b with given per-channel mean and variance. */
function normalize(x: ArrayLike<number>, s: Shape4, mean: ArrayLike<number>, variance: ArrayLike<number>, wt: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  const [n, c, h, w] = s;
  const hw = h * w;
  const y = new Float64Array(n * c * hw);
  for (let bi = 0; bi < n; bi++) {
    for (let ch = 0; ch < c; ch++) {
      const inv = 1 / Math.sqrt(variance[ch] + EPS);
      for (let i = 0; i < hw; i++) {
        const k = (bi * c + ch) * hw + i;
        y[k] = (x[k] - mean[ch]) * inv * wt[ch] + b[ch];
      }
    }
  }
  return y;
}

function bnTrainRef(x: ArrayLike<number>, s: Shape4, wt: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  const { mean, variance } = batchStats(x, s);
  return normalize(x, s, mean, variance, wt, b);
}

/** Analytic float64 training-mode backward (validated against finite differences below). */
function bnTrainGrad(x: ArrayLike<number>, s: Shape4, wt: ArrayLike<number>, dy: ArrayLike<number>): { dx: Float64Array; dw: Float64Array; db: Float64Array } {
  const [n, c, h, w] = s;
  const hw = h * w;
  const m = n * hw;
  const { mean, variance } = batchStats(x, s);
  const dx = new Float64Array(x.length);
  const dw = new Float64Array(c);
  const db = new Float64Array(c);
  for (let ch = 0; ch < c; ch++) {
    const inv = 1 / Math.sqrt(variance[ch] + EPS);
    let sdy = 0;
    let sdyx = 0;
    for (let bi = 0; bi < n; bi++) {
      for (let i = 0; i < hw; i++) {
        const k = (bi * c + ch) * hw + i;
        sdy += dy[k];
        sdyx += dy[k] * (x[k] - mean[ch]) * inv;
      }
    }
    dw[ch] = sdyx;
    db[ch] = sdy;
    for (let bi = 0; bi < n; bi++) {
      for (let i = 0; i < hw; i++) {
        const k = (bi * c + ch) * hw + i;
        const xhat = (x[k] - mean[ch]) * inv;
        dx[k] = (wt[ch] * inv / m) * (m * dy[k] - sdy - xhat * sdyx);
      }
    }
  }
  return { dx, dw, db };
}

function bnCase(s: Shape4, seed: number, offset = 0) {
  const c = s[1];
  const x = randn(prod(s), seed).map((v) => Math.fround(v * 2 + offset));
  const wt = randn(c, seed + 1).map((v) => Math.fround(1 + 0.5 * v));
  const b = randn(c, seed + 2, 0.5);
  const rm = randn(c, seed + 3, 0.3);
  const rv = randn(c, seed + 4).map((v) => Math.fround(0.5 + Math.abs(v)));
  const dy = randn(prod(s), seed + 5);
  return { x, wt, b, rm, rv, dy };
}

const smallShapes: Shape4[] = [[1, 3, 7, 7], [2, 1, 13, 13], [3, 17, 5, 5], [1, 3, 33, 33], [2, 3, 4, 4], [4, 2, 1, 1]];

for (const s of smallShapes) {
  test(`train ${JSON.stringify(s)}: forward, running stats, backward vs finite differences`, async () => {
    const c = s[1];
    const { x, wt, b, rm, rv, dy } = bnCase(s, 10 + prod(s));
    const tx = parameter(x, s);
    const tw = parameter(wt, [c]);
    const tb = parameter(b, [c]);
    const trm = tensor(rm, [c]);
    const trv = tensor(rv, [c]);
    const out = batchnorm2d(tx, tw, tb, trm, trv, { training: true, momentum: 0.1 });
    assertClose(await out.toArray(), bnTrainRef(x, s, wt, b), FWD, 'forward');
    const { mean, variance } = batchStats(x, s);
    const m = s[0] * s[2] * s[3];
    assertClose(await trm.toArray(), Array.from(rm, (v, i) => 0.9 * v + 0.1 * mean[i]), FWD, 'running mean');
    assertClose(await trv.toArray(), Array.from(rv, (v, i) => 0.9 * v + 0.1 * variance[i] * m / (m - 1)), FWD, 'running var (unbiased)');
    backward(out, { gradient: tensor(dy, s) });
    const gx = numericGrad((v) => bnTrainRef(v, s, wt, b), x, dy);
    const gw = numericGrad((v) => bnTrainRef(x, s, v, b), wt, dy);
    const gb = numericGrad((v) => bnTrainRef(x, s, wt, v), b, dy);
    assertClose(await tx.grad!.toArray(), gx, BWD, 'grad x');
    assertClose(await tw.grad!.toArray(), gw, BWD, 'grad weight');
    assertClose(await tb.grad!.toArray(), gb, BWD, 'grad bias');
    // the analytic reference used for the larger shapes agrees with finite differences
    const a = bnTrainGrad(x, s, wt, dy);
    assertClose(a.dx, gx, BWD, 'analytic dx');
    assertClose(a.dw, gw, BWD, 'analytic dw');
  });
}

// Several reduction chunks per channel (M > 8192; chunk boundaries inside planes), odd
// sizes, a large mean (shifted sums).
const largeShapes: Array<[Shape4, number]> = [[[3, 3, 57, 57], 0], [[9, 2, 33, 33], 50], [[1, 1, 111, 113], -20], [[4, 1, 101, 99], 3], [[8, 2, 40, 40], 30], [[5, 3, 4, 412], -7]];
for (const [s, offset] of largeShapes) {
  test(`train ${JSON.stringify(s)} mean ${offset}: forward, stats, backward vs analytic`, async () => {
    const c = s[1];
    const { x, wt, b, rm, rv, dy } = bnCase(s, 7 + prod(s), offset);
    const tx = parameter(x, s);
    const tw = parameter(wt, [c]);
    const tb = parameter(b, [c]);
    const trm = tensor(rm, [c]);
    const trv = tensor(rv, [c]);
    const out = batchnorm2d(tx, tw, tb, trm, trv, { training: true });
    assertClose(await out.toArray(), bnTrainRef(x, s, wt, b), FWD, 'forward');
    const { mean, variance } = batchStats(x, s);
    const m = s[0] * s[2] * s[3];
    assertClose(await trm.toArray(), Array.from(rm, (v, i) => 0.9 * v + 0.1 * mean[i]), FWD, 'running mean');
    assertClose(await trv.toArray(), Array.from(rv, (v, i) => 0.9 * v + 0.1 * variance[i] * m / (m - 1)), FWD, 'running var');
    backward(out, { gradient: tensor(dy, s) });
    const a = bnTrainGrad(x, s, wt, dy);
    assertClose(await tx.grad!.toArray(), a.dx, BWD, 'grad x');
    assertClose(await tw.grad!.toArray(), a.dw, { atol: 1e-3, rtol: 1e-3 }, 'grad weight');
    assertClose(await tb.grad!.toArray(), a.db, { atol: 1e-3, rtol: 1e-3 }, 'grad bias');
  });
}

test('train with residual and ReLU in the same pass: forward, and gradients of x, weight, bias, residual', async () => {
  for (const [si, s] of ([[2, 3, 5, 5], [3, 4, 8, 8]] as Shape4[]).entries()) {
    const c = s[1];
    const { x, wt, b, rm, rv, dy } = bnCase(s, 90 + si);
    const res = randn(prod(s), 95 + si);
    const pre = bnTrainRef(x, s, wt, b).map((v, i) => v + res[i]);
    const tx = parameter(x, s);
    const tw = parameter(wt, [c]);
    const tb = parameter(b, [c]);
    const tres = parameter(res, s);
    const out = batchnorm2d(tx, tw, tb, tensor(rm, [c]), tensor(rv, [c]), { training: true, residual: tres, relu: true });
    assertClose(await out.toArray(), pre.map((v) => Math.max(v, 0)), FWD, 'forward');
    backward(out, { gradient: tensor(dy, s) });
    // The gradient before the ReLU (no value sits on the kink), then the plain batchnorm backward.
    const gm = dy.map((v, i) => (pre[i] > 0 ? v : 0));
    const a = bnTrainGrad(x, s, wt, gm);
    assertClose(await tx.grad!.toArray(), a.dx, BWD, `${JSON.stringify(s)} grad x`);
    assertClose(await tw.grad!.toArray(), a.dw, BWD, `${JSON.stringify(s)} grad weight`);
    assertClose(await tb.grad!.toArray(), a.db, BWD, `${JSON.stringify(s)} grad bias`);
    assertClose(await tres.grad!.toArray(), gm, BWD, `${JSON.stringify(s)} grad residual`);
  }
  // ReLU without a residual, and with a residual that needs no gradient: the mask is fused
  // into the backward kernels (both layouts: 5x5 planes scalar, 8x8 vec4).
  for (const [si, s] of ([[2, 3, 5, 5], [3, 4, 8, 8]] as Shape4[]).entries()) {
    for (const withResidual of [false, true]) {
      const c = s[1];
      const { x, wt, b, rm, rv, dy } = bnCase(s, 80 + si);
      const res = randn(prod(s), 85 + si);
      const pre = bnTrainRef(x, s, wt, b).map((v, i) => v + (withResidual ? res[i] : 0));
      const tx = parameter(x, s);
      const tw = parameter(wt, [c]);
      const tb = parameter(b, [c]);
      const out = batchnorm2d(tx, tw, tb, tensor(rm, [c]), tensor(rv, [c]), {
        training: true, relu: true, ...(withResidual ? { residual: tensor(res, s) } : {}),
      });
      const what = `${JSON.stringify(s)} ReLU${withResidual ? ' + constant residual' : ''}`;
      assertClose(await out.toArray(), pre.map((v) => Math.max(v, 0)), FWD, `${what} forward`);
      backward(out, { gradient: tensor(dy, s) });
      const a = bnTrainGrad(x, s, wt, dy.map((v, i) => (pre[i] > 0 ? v : 0)));
      assertClose(await tx.grad!.toArray(), a.dx, BWD, `${what} grad x`);
      assertClose(await tw.grad!.toArray(), a.dw, BWD, `${what} grad weight`);
      assertClose(await tb.grad!.toArray(), a.db, BWD, `${what} grad bias`);
    }
  }
  // Residual without ReLU: its gradient is the output gradient itself.
  const s: Shape4 = [2, 2, 3, 3];
  const { x, wt, b, rm, rv, dy } = bnCase(s, 97);
  const tres = parameter(randn(prod(s), 98), s);
  const out = batchnorm2d(tensor(x, s), tensor(wt, [2]), tensor(b, [2]), tensor(rm, [2]), tensor(rv, [2]), { training: true, residual: tres });
  backward(out, { gradient: tensor(dy, s) });
  assertClose(await tres.grad!.toArray(), dy, FWD, 'grad residual without ReLU');
});

test('train: only weight/bias need gradients (input is data)', async () => {
  const s: Shape4 = [2, 3, 7, 7];
  const { x, wt, b, rm, rv, dy } = bnCase(s, 99);
  const tx = tensor(x, s);
  const tw = parameter(wt, [3]);
  const tb = parameter(b, [3]);
  const out = batchnorm2d(tx, tw, tb, tensor(rm, [3]), tensor(rv, [3]), { training: true });
  backward(out, { gradient: tensor(dy, s) });
  const a = bnTrainGrad(x, s, wt, dy);
  assertClose(await tw.grad!.toArray(), a.dw, BWD, 'grad weight');
  assertClose(await tb.grad!.toArray(), a.db, BWD, 'grad bias');
  assert.is(tx.grad, null);
});

test('train: momentum 0.3, two steps accumulate the running estimates', async () => {
  const s: Shape4 = [2, 3, 5, 5];
  const c1 = bnCase(s, 1);
  const c2 = bnCase(s, 2);
  const trm = tensor(c1.rm, [3]);
  const trv = tensor(c1.rv, [3]);
  const tw = tensor(c1.wt, [3]);
  const tb = tensor(c1.b, [3]);
  noGrad(() => {
    batchnorm2d(tensor(c1.x, s), tw, tb, trm, trv, { training: true, momentum: 0.3 }).dispose();
    batchnorm2d(tensor(c2.x, s), tw, tb, trm, trv, { training: true, momentum: 0.3 }).dispose();
  });
  let em = Array.from(c1.rm);
  let ev = Array.from(c1.rv);
  for (const x of [c1.x, c2.x]) {
    const { mean, variance } = batchStats(x, s);
    em = em.map((v, i) => 0.7 * v + 0.3 * mean[i]);
    ev = ev.map((v, i) => 0.7 * v + 0.3 * variance[i] * 50 / 49);
  }
  assertClose(await trm.toArray(), em, FWD, 'running mean');
  assertClose(await trv.toArray(), ev, FWD, 'running var');
});

for (const s of [[1, 3, 7, 7], [2, 17, 13, 13], [3, 1, 6, 6]] as Shape4[]) {
  test(`eval ${JSON.stringify(s)}: forward with running stats (unchanged), backward vs finite differences`, async () => {
    const c = s[1];
    const { x, wt, b, rm, rv, dy } = bnCase(s, 20 + prod(s));
    const tx = parameter(x, s);
    const tw = parameter(wt, [c]);
    const tb = parameter(b, [c]);
    const trm = tensor(rm, [c]);
    const trv = tensor(rv, [c]);
    const out = batchnorm2d(tx, tw, tb, trm, trv, { training: false });
    const ref = (xx: ArrayLike<number>, ww: ArrayLike<number>, bb: ArrayLike<number>) => normalize(xx, s, rm, rv, ww, bb);
    assertClose(await out.toArray(), ref(x, wt, b), FWD, 'forward');
    assertClose(await trm.toArray(), rm, { atol: 0, rtol: 0 }, 'running mean unchanged');
    assertClose(await trv.toArray(), rv, { atol: 0, rtol: 0 }, 'running var unchanged');
    backward(out, { gradient: tensor(dy, s) });
    assertClose(await tx.grad!.toArray(), numericGrad((v) => ref(v, wt, b), x, dy), BWD, 'grad x');
    assertClose(await tw.grad!.toArray(), numericGrad((v) => ref(x, v, b), wt, dy), BWD, 'grad weight');
    assertClose(await tb.grad!.toArray(), numericGrad((v) => ref(x, wt, v), b, dy), BWD, 'grad bias');
  });
}

test('eval with frozen affine: only dx', async () => {
  const s: Shape4 = [2, 3, 5, 5];
  const { x, wt, b, rm, rv, dy } = bnCase(s, 5);
  const tx = parameter(x, s);
  const out = batchnorm2d(tx, tensor(wt, [3]), tensor(b, [3]), tensor(rm, [3]), tensor(rv, [3]), { training: false });
  backward(out, { gradient: tensor(dy, s) });
  const ref = (xx: ArrayLike<number>) => normalize(xx, s, rm, rv, wt, b);
  assertClose(await tx.grad!.toArray(), numericGrad(ref, x, dy), BWD, 'grad x');
});

function scaleShiftRef(x: ArrayLike<number>, s: Shape4, sc: ArrayLike<number>, sh: ArrayLike<number>, res: ArrayLike<number> | null, relu: boolean): Float64Array {
  const [n, c, h, w] = s;
  const hw = h * w;
  const y = new Float64Array(n * c * hw);
  for (let k = 0; k < y.length; k++) {
    const ch = Math.floor(k / hw) % c;
    let v = x[k] * sc[ch] + sh[ch] + (res ? res[k] : 0);
    if (relu) v = Math.max(v, 0);
    y[k] = v;
  }
  return y;
}

test('foldBatchNorm + scaleShift equals eval batchnorm2d', async () => {
  const s: Shape4 = [2, 17, 7, 7];
  const { x, wt, b, rm, rv } = bnCase(s, 31);
  const tw = tensor(wt, [17]);
  const tb = tensor(b, [17]);
  const trm = tensor(rm, [17]);
  const trv = tensor(rv, [17]);
  const { scale, shift } = foldBatchNorm(tw, tb, trm, trv);
  const sc = Array.from(wt, (v, i) => v / Math.sqrt(rv[i] + EPS));
  assertClose(await scale.toArray(), sc, FWD, 'scale');
  assertClose(await shift.toArray(), Array.from(b, (v, i) => v - rm[i] * sc[i]), FWD, 'shift');
  const tx = tensor(x, s);
  const fused = scaleShift(tx, scale, shift);
  const bn = batchnorm2d(tx, tw, tb, trm, trv, { training: false });
  assertClose(await fused.toArray(), await bn.toArray(), FWD, 'fused vs batchnorm2d');
});

for (const [s, relu, withRes] of [
  [[2, 3, 7, 7], true, true],
  [[1, 17, 4, 4], true, false],
  [[3, 1, 13, 13], false, true],
  [[2, 3, 5, 5], false, false],
] as Array<[Shape4, boolean, boolean]>) {
  test(`scaleShift ${JSON.stringify(s)} relu=${relu} residual=${withRes}: forward and backward`, async () => {
    const c = s[1];
    // keep pre-activations away from the ReLU kink
    const x = randn(prod(s), 41).map((v) => Math.fround(Math.sign(v) * (Math.abs(v) + 0.05)));
    const sc = randn(c, 42).map((v) => Math.fround(1 + 0.3 * v));
    const sh = new Float64Array(c);
    const res = withRes ? randn(prod(s), 43).map((v) => Math.fround(0.01 * Math.sign(v))) : null;
    const dy = randn(prod(s), 44);
    const tx = parameter(x, s);
    const tsc = parameter(sc, [c]);
    const tsh = parameter(sh, [c]);
    const tres = res ? parameter(res, s) : null;
    const out = scaleShift(tx, tsc, tsh, { relu, ...(tres ? { residual: tres } : {}) });
    const ref = (xx: ArrayLike<number>, a: ArrayLike<number>, bb: ArrayLike<number>, r: ArrayLike<number> | null) => scaleShiftRef(xx, s, a, bb, r, relu);
    assertClose(await out.toArray(), ref(x, sc, sh, res), { atol: 1e-5, rtol: 1e-5 }, 'forward');
    backward(out, { gradient: tensor(dy, s) });
    assertClose(await tx.grad!.toArray(), numericGrad((v) => ref(v, sc, sh, res), x, dy, 1e-4), BWD, 'grad x');
    assertClose(await tsc.grad!.toArray(), numericGrad((v) => ref(x, v, sh, res), sc, dy, 1e-4), BWD, 'grad scale');
    assertClose(await tsh.grad!.toArray(), numericGrad((v) => ref(x, sc, v, res), sh, dy, 1e-4), BWD, 'grad shift');
    if (res) assertClose(await tres!.grad!.toArray(), numericGrad((v) => ref(x, sc, sh, v), res, dy, 1e-4), BWD, 'grad residual');
  });
}

test('saved tensors survive the caller disposing them before backward', async () => {
  const s: Shape4 = [2, 3, 5, 5];
  const { x, wt, b, rm, rv, dy } = bnCase(s, 77);
  const tx = parameter(x, s);
  const tw = parameter(wt, [3]);
  const mid = batchnorm2d(tx, tw, tensor(b, [3]), tensor(rm, [3]), tensor(rv, [3]), { training: true });
  const { scale, shift } = foldBatchNorm(tensor(wt, [3]), tensor(b, [3]), tensor(rm, [3]), tensor(rv, [3]));
  const out = scaleShift(mid, scale, shift, { relu: true });
  const expected = scaleShiftRef(bnTrainRef(x, s, wt, b), s, await scale.toArray(), await shift.toArray(), null, true);
  assertClose(await out.toArray(), expected, FWD, 'forward');
  mid.dispose();
  scale.dispose();
  backward(out, { gradient: tensor(dy, s) });
  assert.ok(tx.grad !== null && tw.grad !== null);
  assert.is((await tx.grad!.toArray()).length, prod(s));
});

test('clear errors', async () => {
  const x = tensor(new Float32Array(2 * 3 * 4 * 4), [2, 3, 4, 4]);
  const v3 = tensor([1, 1, 1], [3]);
  const v2 = tensor([1, 1], [2]);
  await assertThrowsWith(() => batchnorm2d(x, v2, v3, v3, v3, { training: true }), ['batchnorm2d', 'weight', '[2]', '[2, 3, 4, 4]'], 'weight shape');
  await assertThrowsWith(() => batchnorm2d(x.view([6, 16]), v3, v3, v3, v3, { training: true }), ['batchnorm2d', 'rank 4'], 'rank');
  await assertThrowsWith(
    () => batchnorm2d(tensor([1, 2, 3], [1, 3, 1, 1]), v3, v3, v3, v3, { training: true }),
    ['batchnorm2d', 'more than one value per channel'], 'single value per channel');
  await assertThrowsWith(() => scaleShift(x, v3, v3, { residual: v3 }), ['scaleShift', 'residual'], 'residual shape');
});

test.run();

