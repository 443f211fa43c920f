// conv2d: forward, input gradient and weight gradient against a float64 CPU reference, for
// both kernel schedules ('tiled' = workgroup-memory tiles, 'direct' = no workgroup memory),
// on odd sizes, strides, paddings, dilations, groups and channel counts that are not tile
// multiples; the reference's gradients against finite differences; the fused epilogue; errors.
// Tolerance (f32 kernels vs float64): |a - e| <= 1e-5 * max|e| + 1e-4 * |e| element-wise, for
// outputs and gradients alike (the measured worst relative error is ~1e-6).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  init, tensor, parameter, backward, conv2d, conv2dRaw, conv2dGradInput, conv2dGradWeight, conv2dAlgorithm, tune,
  type ConvOptions, type ConvStrategy, type Tuning,
} from '../../src/index.js';
import { randn, assertClose, numericGrad, assertThrowsWith } from '../helpers.js';
import { type ConvCase, geom, convForward, convGradInput, convGradWeight, convGradBias } from './reference.js';

const test = suite('conv2d');

// One small direct tile for most tests (16 rows x 64 columns per workgroup, 4 thread rows):
// several tiles in both directions on small shapes, and one compiled variant per feature
// combination (each direct variant costs seconds of LLVM time on lavapipe). The production
// tile choice is tested separately below.
const TEST_TILE = { rows: 4, cgroups: 1, colt: 16 };

let before: Tuning;
test.before(async () => {
  await init();
  before = tune({ convDirectTile: TEST_TILE });
});
test.after(() => {
  tune(before);
});

function tol(expected: ArrayLike<number>): { atol: number; rtol: number } {
  let m = 0;
  for (let i = 0; i < expected.length; i++) m = Math.max(m, Math.abs(expected[i]));
  return { atol: 1e-5 * Math.max(m, 1e-3), rtol: 1e-4 };
}

function options(c: ConvCase): ConvOptions {
  return { stride: c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups };
}

const cases: ConvCase[] = [
  { N: 1, Cin: 3, H: 13, W: 13, Cout: 5, KH: 3, KW: 3, padding: 1, bias: true },
  { N: 2, Cin: 5, H: 7, W: 7, Cout: 17, KH: 3, KW: 3, stride: 2, padding: 1 },
  { N: 1, Cin: 3, H: 33, W: 33, Cout: 33, KH: 7, KW: 7, stride: 2, padding: 3, bias: true },
  { N: 2, Cin: 17, H: 13, W: 13, Cout: 5, KH: 1, KW: 1 },
  { N: 2, Cin: 33, H: 7, W: 7, Cout: 17, KH: 1, KW: 1, stride: 2 },
  { N: 1, Cin: 5, H: 13, W: 13, Cout: 3, KH: 3, KW: 3, padding: 2, dilation: 2, bias: true },
  { N: 2, Cin: 8, H: 12, W: 12, Cout: 16, KH: 1, KW: 1 },
  { N: 2, Cin: 4, H: 7, W: 7, Cout: 8, KH: 3, KW: 3, padding: 1 },
  { N: 2, Cin: 6, H: 9, W: 9, Cout: 4, KH: 3, KW: 3, stride: 2, padding: 1, groups: 2, bias: true },
  { N: 1, Cin: 3, H: 7, W: 7, Cout: 5, KH: 3, KW: 3, stride: 2 },
  { N: 2, Cin: 5, H: 13, W: 8, Cout: 3, KH: 3, KW: 1, stride: [2, 1], padding: [1, 0], dilation: [1, 3] },
  { N: 1, Cin: 9, H: 13, W: 13, Cout: 70, KH: 3, KW: 3, padding: 1 },
  { N: 2, Cin: 17, H: 33, W: 33, Cout: 33, KH: 3, KW: 3, padding: 1, bias: true },
  { N: 2, Cin: 7, H: 33, W: 33, Cout: 3, KH: 3, KW: 3, stride: 2, padding: 0 },
];

const strategies: ConvStrategy[] = ['tiled', 'direct'];

for (const [ci, c] of cases.entries()) {
  const g = geom(c);
  const name = `${c.N}x${c.Cin}x${c.H}x${c.W} -> ${c.Cout} k${c.KH}x${c.KW} ${JSON.stringify(options(c))}${c.bias ? ' +bias' : ''}`;
  test(`case ${ci}: ${name}: forward, dx, dw, db (both schedules)`, async () => {
    const x = randn(c.N * c.Cin * c.H * c.W, 100 + ci);
    const w = randn(c.Cout * (c.Cin / g.G) * c.KH * c.KW, 200 + ci, 0.5);
    const b = c.bias ? randn(c.Cout, 300 + ci) : null;
    const yShape = [g.N, g.Cout, g.OH, g.OW];
    const gy = randn(g.N * g.Cout * g.OH * g.OW, 400 + ci);
    const y = convForward(g, x, w, b);
    const dx = convGradInput(g, gy, w);
    const dw = convGradWeight(g, gy, x);
    for (const s of strategies) {
      tune({ convSchedule: s });
      const tx = parameter(x, [c.N, c.Cin, c.H, c.W]);
      const tw = parameter(w, [c.Cout, c.Cin / g.G, c.KH, c.KW]);
      const tb = b ? parameter(b, [c.Cout]) : null;
      const out = conv2d(tx, tw, tb, options(c));
      assert.equal([...out.shape], yShape, `${s}: output shape`);
      assertClose(await out.toArray(), y, tol(y), `${s} forward`);
      backward(out, { gradient: tensor(gy, yShape) });
      assertClose(await tx.grad!.toArray(), dx, tol(dx), `${s} dx`);
      assertClose(await tw.grad!.toArray(), dw, tol(dw), `${s} dw`);
      if (tb) {
        const db = convGradBias(g, gy);
        assertClose(await tb.grad!.toArray(), db, tol(db), `${s} db`);
      }
      // Where the autograd op takes another algorithm than the raw entries (1x1 stride 1: the
      // matmul), the raw entries' kernels are checked too.
      const xShape = [c.N, c.Cin, c.H, c.W];
      const wShape = [c.Cout, c.Cin / g.G, c.KH, c.KW];
      const passes = ['forward', 'gradInput', 'gradWeight'] as const;
      if (passes.some((p) => conv2dAlgorithm(xShape, wShape, options(c), p, s, true) !== conv2dAlgorithm(xShape, wShape, options(c), p, s))) {
        const rx = tensor(x, xShape);
        const rw = tensor(w, wShape);
        const ry = tensor(gy, yShape);
        assertClose(await conv2dRaw(rx, rw, b ? tensor(b, [c.Cout]) : null, options(c), {}, s).toArray(), y, tol(y), `${s} raw forward`);
        assertClose(await conv2dGradInput(ry, rw, xShape, options(c), s).toArray(), dx, tol(dx), `${s} raw dx`);
        assertClose(await conv2dGradWeight(ry, rx, wShape, options(c), s).toArray(), dw, tol(dw), `${s} raw dw`);
      }
    }
  });
}

// Larger shapes for the split-K path and several tiles in every direction (raw kernels).
test('split-K weight gradient and multi-tile dgrad: 4x24x20x20 -> 40 k3 s1 p1 and s2', async () => {
  for (const c of [
    { N: 4, Cin: 24, H: 20, W: 20, Cout: 40, KH: 3, KW: 3, padding: 1 },
    { N: 4, Cin: 24, H: 21, W: 21, Cout: 40, KH: 3, KW: 3, stride: 2, padding: 1 },
  ] as ConvCase[]) {
    const g = geom(c);
    const x = randn(c.N * c.Cin * c.H * c.W, 7);
    const w = randn(c.Cout * c.Cin * 9, 8, 0.3);
    const gy = randn(g.N * g.Cout * g.OH * g.OW, 9);
    const dx = convGradInput(g, gy, w);
    const dw = convGradWeight(g, gy, x);
    for (const s of strategies) {
      const tx = tensor(x, [c.N, c.Cin, c.H, c.W]);
      const tw = tensor(w, [c.Cout, c.Cin, 3, 3]);
      const tgy = tensor(gy, [g.N, g.Cout, g.OH, g.OW]);
      assertClose(await conv2dGradInput(tgy, tw, tx.shape, options(c), s).toArray(), dx, tol(dx), `${s} dx`);
      assertClose(await conv2dGradWeight(tgy, tx, tw.shape, options(c), s).toArray(), dw, tol(dw), `${s} dw`);
    }
  }
});

// The CPU reference's gradients against central finite differences (so the GPU comparisons
// above test the right thing), and the GPU gradients against the same numbers.
for (const c of [
  { N: 1, Cin: 2, H: 5, W: 5, Cout: 3, KH: 3, KW: 3, stride: 2, padding: 1, bias: true },
  { N: 2, Cin: 2, H: 4, W: 5, Cout: 2, KH: 2, KW: 3, padding: [0, 1], dilation: [2, 1] },
] as ConvCase[]) {
  test(`finite differences: ${JSON.stringify(c)}`, async () => {
    const g = geom(c);
    const x = randn(c.N * c.Cin * c.H * c.W, 11);
    const w = randn(c.Cout * c.Cin * c.KH * c.KW, 12);
    const b = randn(c.Cout, 13);
    const gy = randn(g.N * g.Cout * g.OH * g.OW, 14);
    const ndx = numericGrad((v) => convForward(g, v, w, b), x, gy);
    const ndw = numericGrad((v) => convForward(g, x, v, b), w, gy);
    const ndb = numericGrad((v) => convForward(g, x, w, v), b, gy);
    const T = { atol: 1e-6, rtol: 1e-6 };
    assertClose(convGradInput(g, gy, w), ndx, T, 'reference dx');
    assertClose(convGradWeight(g, gy, x), ndw, T, 'reference dw');
    assertClose(convGradBias(g, gy), ndb, T, 'reference db');
    for (const s of strategies) {
      tune({ convSchedule: s });
      const tx = parameter(x, [c.N, c.Cin, c.H, c.W]);
      const tw = parameter(w, [c.Cout, c.Cin, c.KH, c.KW]);
      const tb = parameter(b, [c.Cout]);
      backward(conv2d(tx, tw, tb, options(c)), { gradient: tensor(gy, [g.N, g.Cout, g.OH, g.OW]) });
      const G = { atol: 1e-4, rtol: 1e-4 };
      assertClose(await tx.grad!.toArray(), ndx, G, `${s} dx vs finite differences`);
      assertClose(await tw.grad!.toArray(), ndw, G, `${s} dw vs finite differences`);
      assertClose(await tb.grad!.toArray(), ndb, G, `${s} db vs finite differences`);
    }
  });
}

test('large direct tile (16 rows x 8 columns per thread, 2 thread rows): 3x3 forward, dx, dw', async () => {
  // The production tiles (16 x 16 or 16 x 12 columns) differ only in unroll counts; this one
  // exercises 16-row blocks, several column groups and thread rows over several tiles in both
  // directions, at a fraction of their shader compile time (seconds per variant on lavapipe).
  tune({ convDirectTile: { rows: 16, cgroups: 2, colt: 32 } });
  try {
    for (const c of [
      { N: 1, Cin: 8, H: 34, W: 34, Cout: 40, KH: 3, KW: 3, padding: 1, bias: true },
    ] as ConvCase[]) {
      const g = geom(c);
      const x = randn(c.N * c.Cin * c.H * c.W, 31);
      const w = randn(c.Cout * c.Cin * c.KH * c.KW, 32, 0.5);
      const b = c.bias ? randn(c.Cout, 33) : null;
      const gy = randn(g.N * g.Cout * g.OH * g.OW, 34);
      const yShape = [g.N, g.Cout, g.OH, g.OW];
      tune({ convSchedule: 'direct' });
      const tx = parameter(x, [c.N, c.Cin, c.H, c.W]);
      const tw = parameter(w, [c.Cout, c.Cin, c.KH, c.KW]);
      const out = conv2d(tx, tw, b ? tensor(b, [c.Cout]) : null, options(c));
      const y = convForward(g, x, w, b);
      assertClose(await out.toArray(), y, tol(y), 'forward');
      backward(out, { gradient: tensor(gy, yShape) });
      const dx = convGradInput(g, gy, w);
      const dw = convGradWeight(g, gy, x);
      assertClose(await tx.grad!.toArray(), dx, tol(dx), 'dx');
      assertClose(await tw.grad!.toArray(), dw, tol(dw), 'dw');
    }
  } finally {
    tune({ convDirectTile: TEST_TILE });
  }
});

test('direct tiles sharing weight rows across subgroups (where the device has 8-lane subgroups): = CPU reference, and bit-identical to the unshared kernel', async () => {
  // 8- and 16-row tiles with 8 or 16 column threads: every subgroup of 8 lanes has one set of
  // weight rows. Cases: stride 2 with odd maps and padding, 7x7, the pointwise path, groups,
  // dilation, the epilogue; forward, the phases of dx, and dw.
  for (const tile of [{ rows: 8, cgroups: 1, colt: 16 }, { rows: 16, cgroups: 2, colt: 8 }]) {
    tune({ convDirectTile: tile });
    try {
      for (const [ci, c] of ([
        { N: 2, Cin: 5, H: 13, W: 11, Cout: 21, KH: 3, KW: 3, stride: 2, padding: 1 },
        { N: 1, Cin: 3, H: 20, W: 20, Cout: 17, KH: 7, KW: 7, stride: 2, padding: 3 },
        { N: 2, Cin: 8, H: 6, W: 6, Cout: 24, KH: 1, KW: 1 },
        { N: 1, Cin: 6, H: 9, W: 9, Cout: 18, KH: 3, KW: 3, padding: 2, dilation: 2, groups: 2 },
      ] as ConvCase[]).entries()) {
        const g = geom(c);
        const x = randn(c.N * c.Cin * c.H * c.W, 141 + ci);
        const w = randn(c.Cout * (c.Cin / g.G) * c.KH * c.KW, 151 + ci, 0.5);
        const b = randn(c.Cout, 161 + ci);
        const res = randn(g.N * g.Cout * g.OH * g.OW, 171 + ci);
        const gy = randn(g.N * g.Cout * g.OH * g.OW, 181 + ci);
        const yShape = [g.N, g.Cout, g.OH, g.OW];
        const run = async (share: boolean): Promise<Float32Array[]> => {
          tune({ convSubgroups: share });
          const tx = tensor(x, [c.N, c.Cin, c.H, c.W]);
          const tw = tensor(w, [c.Cout, c.Cin / g.G, c.KH, c.KW]);
          const ty = tensor(gy, yShape);
          const y = conv2dRaw(tx, tw, tensor(b, [c.Cout]), options(c), { residual: tensor(res, yShape), relu: true }, 'direct');
          const dx = conv2dGradInput(ty, tw, tx.shape, options(c), 'direct');
          const dw = conv2dGradWeight(ty, tx, tw.shape, options(c), 'direct');
          return [await y.toArray(), await dx.toArray(), await dw.toArray()] as Float32Array[];
        };
        const [y, dx, dw] = await run(true);
        const expected = convForward(g, x, w, b).map((v, i) => Math.max(v + res[i], 0));
        const what = `tile ${JSON.stringify(tile)} case ${ci}`;
        assertClose(y, expected, tol(expected), `${what} forward`);
        const rdx = convGradInput(g, gy, w);
        assertClose(dx, rdx, tol(rdx), `${what} dx`);
        const rdw = convGradWeight(g, gy, x);
        assertClose(dw, rdw, tol(rdw), `${what} dw`);
        const [y0, dx0, dw0] = await run(false);
        assert.equal([y, dx, dw].map((t) => [...t]), [y0, dx0, dw0].map((t) => [...t]), `${what}: the same sums in the same order`);
      }
    } finally {
      tune({ convSubgroups: true });
      tune({ convDirectTile: TEST_TILE });
    }
  }
});

test('swapped direct tile (pixels on the scalar side): forward with epilogue and dx', async () => {
  // 5 pixels x 4 channels per thread, 4 channel threads x 16 pixel threads: 80-pixel x
  // 16-channel workgroups, several in both directions; odd maps, stride 2, 1x1 (which takes
  // the bounds-checked path when swapped), groups.
  tune({ convDirectTile: { rows: 5, cgroups: 1, colt: 4, swap: true } });
  try {
    for (const [ci, c] of ([
      { N: 2, Cin: 5, H: 13, W: 13, Cout: 21, KH: 3, KW: 3, padding: 1 },
      { N: 1, Cin: 6, H: 15, W: 15, Cout: 18, KH: 3, KW: 3, stride: 2, padding: 1 },
      { N: 2, Cin: 8, H: 12, W: 12, Cout: 20, KH: 1, KW: 1 },
      { N: 2, Cin: 6, H: 9, W: 9, Cout: 36, KH: 3, KW: 3, padding: 1, groups: 2 },
    ] as ConvCase[]).entries()) {
      const g = geom(c);
      const x = randn(c.N * c.Cin * c.H * c.W, 41 + ci);
      const w = randn(c.Cout * (c.Cin / g.G) * c.KH * c.KW, 51 + ci, 0.5);
      const b = randn(c.Cout, 61 + ci);
      const res = randn(g.N * g.Cout * g.OH * g.OW, 71 + ci);
      const gy = randn(g.N * g.Cout * g.OH * g.OW, 81 + ci);
      const P = g.OH * g.OW;
      const expected = convForward(g, x, w, b).map((v, i) => Math.max(v + res[i], 0));
      const yShape = [g.N, g.Cout, g.OH, g.OW];
      const tx = tensor(x, [c.N, c.Cin, c.H, c.W]);
      const tw = tensor(w, [c.Cout, c.Cin / g.G, c.KH, c.KW]);
      const out = conv2dRaw(tx, tw, tensor(b, [c.Cout]), options(c), { residual: tensor(res, yShape), relu: true }, 'direct');
      assertClose(await out.toArray(), expected, tol(expected), `case ${ci} forward (${P} pixels per image)`);
      const dx = convGradInput(g, gy, w);
      assertClose(await conv2dGradInput(tensor(gy, yShape), tw, tx.shape, options(c), 'direct').toArray(), dx, tol(dx), `case ${ci} dx`);
    }
  } finally {
    tune({ convDirectTile: TEST_TILE });
  }
});

test('fused epilogue: bias, folded scale/shift, residual, ReLU', async () => {
  const c: ConvCase = { N: 2, Cin: 5, H: 9, W: 9, Cout: 12, KH: 3, KW: 3, stride: 2, padding: 1 };
  const g = geom(c);
  const x = randn(c.N * c.Cin * 81, 21);
  const w = randn(c.Cout * c.Cin * 9, 22);
  const b = randn(c.Cout, 23);
  const scale = randn(c.Cout, 24);
  const shift = randn(c.Cout, 25);
  const res = randn(g.N * g.Cout * g.OH * g.OW, 26);
  const P = g.OH * g.OW;
  const base = convForward(g, x, w, b);
  const expected = base.map((v, i) => {
    const ch = Math.floor(i / P) % c.Cout;
    return Math.max(v * scale[ch] + shift[ch] + res[i], 0);
  });
  const noBias = convForward(g, x, w, null).map((v, i) => v * scale[Math.floor(i / P) % c.Cout] + shift[Math.floor(i / P) % c.Cout]);
  for (const s of strategies) {
    const shape = [g.N, g.Cout, g.OH, g.OW];
    const out = conv2dRaw(tensor(x, [2, 5, 9, 9]), tensor(w, [12, 5, 3, 3]), tensor(b, [12]), options(c),
      { scale: tensor(scale, [12]), shift: tensor(shift, [12]), residual: tensor(res, shape), relu: true }, s);
    assertClose(await out.toArray(), expected, tol(expected), `${s} bias+affine+residual+relu`);
    const out2 = conv2dRaw(tensor(x, [2, 5, 9, 9]), tensor(w, [12, 5, 3, 3]), null, options(c),
      { scale: tensor(scale, [12]), shift: tensor(shift, [12]) }, s);
    assertClose(await out2.toArray(), noBias, tol(noBias), `${s} affine only`);
  }
});

test('clear errors for mismatched shapes', async () => {
  const x = tensor(new Float32Array(2 * 3 * 8 * 8), [2, 3, 8, 8]);
  await assertThrowsWith(() => conv2d(x, tensor(new Float32Array(4 * 2 * 3 * 3), [4, 2, 3, 3])), ['conv2d', '[2, 3, 8, 8]', '[4, 2, 3, 3]'], 'channel mismatch');
  await assertThrowsWith(() => conv2d(x, tensor(new Float32Array(4 * 3 * 9 * 9), [4, 3, 9, 9])), ['conv2d', 'too small'], 'kernel larger than input');
  await assertThrowsWith(() => conv2d(x, tensor(new Float32Array(4 * 3 * 3 * 3), [4, 3, 3, 3]), tensor(new Float32Array(3), [3])), ['conv2d', 'bias', '[3]'], 'bias size');
  await assertThrowsWith(() => conv2d(tensor(new Float32Array(3 * 8 * 8), [3, 8, 8]), tensor(new Float32Array(4 * 3 * 3 * 3), [4, 3, 3, 3])), ['conv2d', '[N, Cin, H, W]'], 'rank');
});

test.run();
