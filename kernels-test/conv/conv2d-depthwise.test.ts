// Depthwise (groups = Cin) and grouped convolutions against the float64 CPU reference: the
// depthwise kernels (forward with epilogue, the flipped stride-1 and the phased input gradient,
// the chunked weight reduction) on odd widths, k1..k7, strides, paddings above (k - 1) / 2,
// dilation, rectangular kernels and channel multipliers; SENet154-like grouped convolutions
// (32 and 64 groups) on both GEMM schedules, their weight gradient also as per-row reductions.
// Tolerance as conv2d.test.ts.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  init, tensor, parameter, backward, conv2d, conv2dRaw, conv2dGradInput, conv2dAlgorithm, tune, withTuning, type ConvOptions, type ConvAlgorithm, type ConvPass, type Tuning,
} from '../../src/index.js';
import { randn, assertClose } from '../helpers.js';
import { type ConvCase, geom, convForward, convGradInput, convGradWeight, convGradBias } from './reference.js';

const test = suite('conv2d-depthwise');

let before: Tuning;
test.before(async () => {
  await init();
  before = tune({ convDirectTile: { rows: 4, cgroups: 1, colt: 16 } });
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

/** Forward, dx, dw (and db) of the autograd op against the reference. */
async function checkCase(c: ConvCase, seed: number, what: string): Promise<void> {
  const g = geom(c);
  const x = randn(c.N * c.Cin * c.H * c.W, seed);
  const w = randn(c.Cout * (c.Cin / g.G) * c.KH * c.KW, seed + 1, 0.5);
  const b = c.bias ? randn(c.Cout, seed + 2) : null;
  const yShape = [g.N, g.Cout, g.OH, g.OW];
  const gy = randn(g.N * g.Cout * g.OH * g.OW, seed + 3);
  const tx = parameter(x, [c.N, c.Cin, c.H, c.W]);
  const tw = parameter(w, [c.Cout, c.Cin / g.G, c.KH, c.KW]);
  const tb = b ? parameter(b, [c.Cout]) : null;
  const out = conv2d(tx, tw, tb, options(c));
  assert.equal([...out.shape], yShape, `${what}: output shape`);
  const y = convForward(g, x, w, b);
  assertClose(await out.toArray(), y, tol(y), `${what} forward`);
  backward(out, { gradient: tensor(gy, yShape) });
  const dx = convGradInput(g, gy, w);
  const dw = convGradWeight(g, gy, x);
  assertClose(await tx.grad!.toArray(), dx, tol(dx), `${what} dx`);
  assertClose(await tw.grad!.toArray(), dw, tol(dw), `${what} dw`);
  if (tb) {
    const db = convGradBias(g, gy);
    assertClose(await tb.grad!.toArray(), db, tol(db), `${what} db`);
  }
}

const depthwise: ConvCase[] = [
  { N: 2, Cin: 5, H: 9, W: 11, Cout: 5, KH: 3, KW: 3, padding: 1, groups: 5, bias: true },
  { N: 1, Cin: 6, H: 13, W: 13, Cout: 6, KH: 3, KW: 3, stride: 2, padding: 1, groups: 6 },
  { N: 2, Cin: 3, H: 12, W: 10, Cout: 3, KH: 5, KW: 5, padding: 2, groups: 3 },
  { N: 1, Cin: 4, H: 15, W: 14, Cout: 4, KH: 5, KW: 5, stride: 2, padding: 2, groups: 4, bias: true },
  { N: 1, Cin: 3, H: 11, W: 9, Cout: 3, KH: 7, KW: 7, padding: 3, groups: 3 },
  { N: 2, Cin: 2, H: 17, W: 16, Cout: 2, KH: 7, KW: 7, stride: 2, padding: 3, groups: 2 },
  // padding above (k - 1) / 2 (the flipped input gradient crops), and no padding
  { N: 1, Cin: 3, H: 6, W: 7, Cout: 3, KH: 3, KW: 3, padding: 3, groups: 3 },
  { N: 1, Cin: 3, H: 8, W: 9, Cout: 3, KH: 3, KW: 3, groups: 3 },
  // dilation, rectangular kernels, mixed strides, a 1x1 depthwise (a per-channel scale)
  { N: 1, Cin: 4, H: 11, W: 10, Cout: 4, KH: 3, KW: 3, padding: 2, dilation: 2, groups: 4 },
  { N: 2, Cin: 3, H: 9, W: 13, Cout: 3, KH: 3, KW: 5, stride: [2, 1], padding: [1, 2], groups: 3 },
  { N: 1, Cin: 5, H: 5, W: 6, Cout: 5, KH: 1, KW: 1, groups: 5 },
  // channel multipliers 2 and 3 (Cout = 2·Cin, 3·Cin) at stride 1 and 2
  { N: 2, Cin: 3, H: 9, W: 9, Cout: 6, KH: 3, KW: 3, padding: 1, groups: 3, bias: true },
  { N: 1, Cin: 2, H: 10, W: 11, Cout: 6, KH: 5, KW: 5, stride: 2, padding: 2, groups: 2 },
  // enough positions (2·48·48) for the weight gradient's chunked reduction
  { N: 2, Cin: 3, H: 48, W: 48, Cout: 3, KH: 3, KW: 3, padding: 1, groups: 3 },
  { N: 2, Cin: 2, H: 95, W: 95, Cout: 2, KH: 5, KW: 5, stride: 2, padding: 2, groups: 2 },
];

for (const [i, c] of depthwise.entries()) {
  test(`depthwise ${c.N}x${c.Cin}x${c.H}x${c.W} -> ${c.Cout} k${c.KH}x${c.KW} ${JSON.stringify(options(c))}: forward, dx, dw`, async () => {
    const xShape = [c.N, c.Cin, c.H, c.W];
    const wShape = [c.Cout, 1, c.KH, c.KW];
    for (const pass of ['forward', 'gradInput', 'gradWeight'] as const) {
      assert.is(conv2dAlgorithm(xShape, wShape, options(c), pass, undefined, true), 'depthwise', pass);
    }
    await checkCase(c, 500 + 10 * i, 'depthwise');
  });
}

test('depthwise forward with the fused epilogue (bias, scale/shift, residual, ReLU)', async () => {
  const c: ConvCase = { N: 2, Cin: 6, H: 9, W: 10, Cout: 6, KH: 3, KW: 3, stride: 2, padding: 1, groups: 6 };
  const g = geom(c);
  const x = randn(2 * 6 * 90, 61);
  const w = randn(6 * 9, 62);
  const b = randn(6, 63);
  const scale = randn(6, 64);
  const shift = randn(6, 65);
  const shape = [g.N, g.Cout, g.OH, g.OW];
  const res = randn(g.N * g.Cout * g.OH * g.OW, 66);
  const P = g.OH * g.OW;
  const expected = convForward(g, x, w, b).map((v, i) => Math.max(v * scale[Math.floor(i / P) % 6] + shift[Math.floor(i / P) % 6] + res[i], 0));
  const out = conv2dRaw(tensor(x, [2, 6, 9, 10]), tensor(w, [6, 1, 3, 3]), tensor(b, [6]), options(c),
    { scale: tensor(scale, [6]), shift: tensor(shift, [6]), residual: tensor(res, shape), relu: true });
  assertClose(await out.toArray(), expected, tol(expected), 'epilogue');
});

const grouped: ConvCase[] = [
  // SENet154's grouped 3x3 convolutions (64 groups; Cin/g = 2..4, Cout/g = 4..8), reduced maps
  { N: 2, Cin: 128, H: 7, W: 7, Cout: 256, KH: 3, KW: 3, padding: 1, groups: 64 },
  { N: 1, Cin: 256, H: 9, W: 9, Cout: 256, KH: 3, KW: 3, stride: 2, padding: 1, groups: 64 },
  { N: 1, Cin: 64, H: 6, W: 5, Cout: 96, KH: 3, KW: 3, padding: 1, groups: 32, bias: true },
  // chunked per-row reductions (2·40·40 positions), 2 x 3 channels per group, stride 2, dilation
  { N: 2, Cin: 8, H: 79, W: 80, Cout: 12, KH: 3, KW: 3, stride: 2, padding: 2, dilation: 2, groups: 4 },
  // wide groups (8·12 channels): the weight gradient on the GEMM
  { N: 1, Cin: 16, H: 7, W: 7, Cout: 24, KH: 3, KW: 3, padding: 1, groups: 2 },
];

test("grouped weight gradients with (Cin/g)·(Cout/g) <= 16 run as per-row reductions, wider ones on the GEMM", () => {
  const algo = (c: ConvCase) => conv2dAlgorithm([c.N, c.Cin, c.H, c.W], [c.Cout, c.Cin / c.groups!, c.KH, c.KW], options(c), 'gradWeight', undefined, true);
  assert.is(algo(grouped[0]), 'grouped');
  assert.is(algo(grouped[3]), 'grouped');
  assert.is(algo(grouped[4]), 'gemm');
  assert.is(algo({ N: 1, Cin: 512, H: 7, W: 7, Cout: 512, KH: 3, KW: 3, groups: 64 }), 'gemm');
});

for (const [i, c] of grouped.entries()) {
  test(`grouped ${c.N}x${c.Cin}x${c.H}x${c.W} -> ${c.Cout} g${c.groups} ${JSON.stringify(options(c))}: forward, dx, dw (both schedules, and the GEMM alone)`, async () => {
    for (const s of ['tiled', 'direct'] as const) {
      for (const perRow of [true, false]) {
        tune({ convSchedule: s, convDepthwise: perRow });
        await checkCase(c, 700 + 10 * i, `grouped ${s}${perRow ? '' : ' gemm only'}`);
      }
    }
    tune({ convSchedule: before.convSchedule, convDepthwise: true });
  });
}

// The grouped kernels (forward, the stride-1 transposed sweep, the strided input gradient by
// stride phase): odd widths (strips of 4..8 overhang the row), 1, 2, 4 and 8 output channels
// per thread (Cout/g = 3, 6, 4, 32), the input gradient with Cin/g from 1 to 16, padding 0 and
// above (k - 1) / 2 (the transposed sweep pads negatively), dilation, rectangular kernels,
// strides 2 and 3, mixed, and kernels larger than the stride in one phase and not the other. Each case runs with the automatic
// choice (the algorithms listed: forward, input gradient) and with the kernel forced wherever it
// applies (convGrouped 'always': strided and wide forward passes too).
const narrow: [ConvCase, ConvAlgorithm, ConvAlgorithm][] = [
  [{ N: 2, Cin: 6, H: 9, W: 13, Cout: 9, KH: 3, KW: 3, padding: 1, groups: 3, bias: true }, 'grouped', 'grouped'],
  [{ N: 1, Cin: 8, H: 11, W: 7, Cout: 12, KH: 3, KW: 3, groups: 2 }, 'grouped', 'grouped'],
  [{ N: 1, Cin: 32, H: 6, W: 5, Cout: 64, KH: 3, KW: 3, padding: 3, groups: 16 }, 'grouped', 'grouped'],
  [{ N: 2, Cin: 32, H: 5, W: 9, Cout: 64, KH: 3, KW: 3, padding: 1, groups: 2 }, 'gemm', 'grouped'],
  [{ N: 1, Cin: 12, H: 10, W: 11, Cout: 8, KH: 3, KW: 5, padding: [2, 4], dilation: 2, groups: 4, bias: true }, 'grouped', 'grouped'],
  [{ N: 2, Cin: 16, H: 13, W: 15, Cout: 32, KH: 3, KW: 3, stride: 2, padding: 1, groups: 4 }, 'gemm', 'grouped'],
  [{ N: 1, Cin: 8, H: 12, W: 9, Cout: 8, KH: 5, KW: 3, stride: [2, 1], padding: [2, 1], groups: 4 }, 'gemm', 'grouped'],
  [{ N: 2, Cin: 12, H: 11, W: 14, Cout: 24, KH: 3, KW: 3, stride: 2, padding: 1, groups: 3 }, 'gemm', 'grouped'],
  [{ N: 1, Cin: 64, H: 9, W: 17, Cout: 32, KH: 3, KW: 5, stride: [1, 3], padding: [1, 3], dilation: [1, 2], groups: 4 }, 'gemm', 'gemm'],
  [{ N: 1, Cin: 6, H: 10, W: 10, Cout: 6, KH: 4, KW: 4, stride: 2, groups: 2 }, 'gemm', 'grouped'],
];

for (const [i, [c, forward, gradInput]] of narrow.entries()) {
  test(`grouped kernel ${c.N}x${c.Cin}x${c.H}x${c.W} -> ${c.Cout} g${c.groups} k${c.KH}x${c.KW} ${JSON.stringify(options(c))}: forward, dx, dw, chosen and forced`, async () => {
    const xShape = [c.N, c.Cin, c.H, c.W];
    const wShape = [c.Cout, c.Cin / c.groups!, c.KH, c.KW];
    const algo = (pass: ConvPass) => conv2dAlgorithm(xShape, wShape, options(c), pass, undefined, true);
    try {
      for (const mode of ['auto', 'always'] as const) {
        tune({ convGrouped: mode });
        assert.is(algo('forward'), mode === 'auto' ? forward : 'grouped', `${mode} forward`);
        assert.is(algo('gradInput'), mode === 'auto' ? gradInput : 'grouped', `${mode} gradInput`);
        await checkCase(c, 900 + 10 * i, `grouped kernel ${mode}`);
      }
    } finally {
      tune({ convGrouped: 'auto' });
    }
  });
}

test('grouped forward with the fused epilogue (bias, scale/shift, residual, ReLU)', async () => {
  for (const stride of [1, 2]) {
    const c: ConvCase = { N: 2, Cin: 8, H: 9, W: 11, Cout: 16, KH: 3, KW: 3, stride, padding: 1, groups: 4 };
    const g = geom(c);
    const x = randn(2 * 8 * 99, 71);
    const w = randn(16 * 2 * 9, 72);
    const b = randn(16, 73);
    const scale = randn(16, 74);
    const shift = randn(16, 75);
    const shape = [g.N, g.Cout, g.OH, g.OW];
    const res = randn(g.N * g.Cout * g.OH * g.OW, 76);
    const P = g.OH * g.OW;
    const ch = (i: number) => Math.floor(i / P) % 16;
    const expected = convForward(g, x, w, b).map((v, i) => Math.max(v * scale[ch(i)] + shift[ch(i)] + res[i], 0));
    const epi = { bias: tensor(b, [16]), scale: tensor(scale, [16]), shift: tensor(shift, [16]), residual: tensor(res, shape), relu: true };
    // strided: chosen only when forced (slower than the GEMM on lavapipe)
    const out = withTuning({ convGrouped: 'always' }, () => {
      assert.is(conv2dAlgorithm([2, 8, 9, 11], [16, 2, 3, 3], options(c)), 'grouped');
      return conv2dRaw(tensor(x, [2, 8, 9, 11]), tensor(w, [16, 2, 3, 3]), epi.bias, options(c), epi);
    });
    assertClose(await out.toArray(), expected, tol(expected), `epilogue, stride ${stride}`);
  }
});

test('grouped raw input gradient (conv2dGradInput) against the reference', async () => {
  const c: ConvCase = { N: 2, Cin: 24, H: 7, W: 10, Cout: 48, KH: 3, KW: 3, padding: 1, groups: 8 };
  const g = geom(c);
  const w = randn(48 * 3 * 9, 81);
  const gy = randn(g.N * g.Cout * g.OH * g.OW, 82);
  assert.is(conv2dAlgorithm([2, 24, 7, 10], [48, 3, 3, 3], options(c), 'gradInput'), 'grouped');
  const dx = conv2dGradInput(tensor(gy, [g.N, g.Cout, g.OH, g.OW]), tensor(w, [48, 3, 3, 3]), [2, 24, 7, 10], options(c));
  const expected = convGradInput(g, gy, w);
  assertClose(await dx.toArray(), expected, tol(expected), 'dx');
});

test('grouped convolutions wider than 8 (forward), 16 (input gradient) or 4 (strided input gradient) channels per group, or one group, stay on the GEMM', () => {
  const algo = (cin: number, cout: number, groups: number, pass: 'forward' | 'gradInput') =>
    conv2dAlgorithm([1, cin, 7, 7], [cout, cin / groups, 3, 3], { padding: 1, groups }, pass, undefined, true);
  assert.is(algo(128, 1024, 64, 'forward'), 'gemm');
  assert.is(algo(2048, 1024, 64, 'gradInput'), 'gemm');
  assert.is(algo(128, 4096, 64, 'forward'), 'gemm');
  assert.is(withTuning({ convGrouped: 'always' }, () => algo(128, 4096, 64, 'forward')), 'gemm');
  assert.is(algo(128, 512, 64, 'forward'), 'grouped');
  assert.is(algo(1024, 256, 64, 'gradInput'), 'grouped');
  assert.is(algo(16, 16, 1, 'forward'), 'gemm');
  const strided = (cin: number, pass: 'forward' | 'gradInput') =>
    conv2dAlgorithm([1, cin, 14, 14], [2 * cin, cin / 64, 3, 3], { stride: 2, padding: 1, groups: 64 }, pass, undefined, true);
  assert.is(strided(256, 'gradInput'), 'grouped');
  assert.is(strided(512, 'gradInput'), 'gemm');
  assert.is(strided(256, 'forward'), 'gemm');
  assert.is(withTuning({ convGrouped: 'always' }, () => strided(512, 'gradInput')), 'grouped');
  assert.is(withTuning({ convDepthwise: false }, () => algo(128, 256, 64, 'forward')), 'gemm');
  assert.is(withTuning({ convGrouped: 'never' }, () => algo(128, 256, 64, 'forward')), 'gemm');
  assert.is(algo(128, 256, 64, 'forward'), 'grouped');
});

test.run();
