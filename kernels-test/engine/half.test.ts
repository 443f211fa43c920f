// Half precision (f16 storage, f32 accumulation) for inference on devices with `shader-f16`
// (lavapipe has it; SwiftShader has not): the host converter against IEEE 754 binary16, the
// cast kernel bit for bit against the host, f16 convolutions (both schedules, pointwise,
// strided, batch-1 swapped tiles, epilogue with an f16 residual) against a float64 CPU
// reference on the f16-rounded operands, f16 max pooling exactly, and the ResNet fixture:
// same top-5 classes as f32 and logits within a stated relative error. Without the feature,
// and with it turned off through the tuning, precision 'auto' and 'f16' resolve to f32 and say
// why.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import {
  init, runtime, tensor, noGrad, cast, add, permute, conv2dRaw, maxPool2d, tune, withTuning, resolvePrecision, ResNet, readSafetensors,
  hostTensorToFloat32, numberToF16Bits, f16BitsToNumber, roundToHalf, type StateDict,
} from '../../src/index.js';
import { randn, assertThrowsWith } from '../helpers.js';
import { geom, convForward, relError, type ConvCase } from '../conv/reference.js';

const test = suite('half precision');
let hasF16 = false;

test.before(async () => {
  await init();
  hasF16 = runtime().gpu.hasF16;
  if (!hasF16) console.log('  (this adapter has no shader-f16: the f16 kernel tests are skipped, the fallback tests run)');
});

test('host f16 conversion: exact round trip of every finite half, ties to even, overflow and underflow', () => {
  for (let h = 0; h < 0x10000; h++) {
    const v = f16BitsToNumber(h);
    if (Number.isNaN(v)) {
      assert.ok(Number.isNaN(f16BitsToNumber(numberToF16Bits(v))), `NaN ${h.toString(16)} stays NaN`);
      continue;
    }
    // -0 and +0 keep their sign bit
    assert.is(numberToF16Bits(v), h, `bits ${h.toString(16)} (${v}) round trip`);
  }
  // 1 + 2^-11 is halfway between 1 and 1 + 2^-10: ties go to the even mantissa (1)
  assert.is(numberToF16Bits(1 + 2 ** -11), 0x3c00);
  assert.is(numberToF16Bits(1 + 3 * 2 ** -11), 0x3c02);
  assert.is(numberToF16Bits(1 + 2 ** -11 + 2 ** -20), 0x3c01, 'above the tie rounds up');
  assert.is(numberToF16Bits(65504), 0x7bff);
  assert.is(numberToF16Bits(65520), 0x7c00, '65520 rounds to Infinity');
  assert.is(numberToF16Bits(-1e6), 0xfc00);
  assert.is(numberToF16Bits(2 ** -25), 0, 'half the smallest subnormal ties to 0');
  assert.is(numberToF16Bits(3 * 2 ** -26), 1, 'above it rounds to the smallest subnormal');
  assert.is(numberToF16Bits(2 ** -14 - 2 ** -25), 0x0400, 'the largest subnormal carries into the smallest normal');
});

test('f16 tensors: upload and read back rounded values; cast f32 <-> f16 bit for bit as the host', async () => {
  if (!hasF16) return;
  const values = [...randn(1001, 3, 300), 70000, -70000, 1e-8, 6e-5, 0.1, 1 + 2 ** -11];
  const t = tensor(values, [values.length], 'f16');
  const back = await t.toArray();
  assert.equal([...back], values.map(roundToHalf), 'tensor(f16) stores the nearest halves');
  const x = tensor(values, [values.length]);
  const h = noGrad(() => cast(x, 'f16'));
  assert.is(h.dtype, 'f16');
  assert.equal([...(await h.toArray())], values.map(roundToHalf), 'cast f32 -> f16 rounds as the host');
  const f = cast(h, 'f32');
  assert.is(f.dtype, 'f32');
  assert.equal([...(await f.toArray())], values.map(roundToHalf), 'cast f16 -> f32 is exact');
  for (const v of [t, x, h, f]) v.dispose();
});

interface HalfConvCase extends ConvCase {
  what: string;
  epilogue?: boolean;
  tile?: { rows: number; cgroups: number; colt: number; swap?: boolean };
}

const CASES: HalfConvCase[] = [
  { what: '3x3 pad 1 with scale/shift/residual/relu', N: 2, Cin: 16, H: 12, W: 12, Cout: 24, KH: 3, KW: 3, padding: 1, epilogue: true },
  { what: '1x1 pointwise (vec4 source loads)', N: 1, Cin: 32, H: 8, W: 8, Cout: 40, KH: 1, KW: 1, epilogue: true },
  { what: '1x1 stride 2 (downsample)', N: 2, Cin: 16, H: 9, W: 9, Cout: 32, KH: 1, KW: 1, stride: 2 },
  { what: '7x7 stride 2 pad 3 with bias (stem)', N: 1, Cin: 3, H: 21, W: 19, Cout: 8, KH: 7, KW: 7, stride: 2, padding: 3, bias: true },
  { what: 'batch-1 14x14 swapped tile', N: 1, Cin: 24, H: 14, W: 14, Cout: 16, KH: 3, KW: 3, padding: 1, epilogue: true, tile: { rows: 5, cgroups: 1, colt: 4, swap: true } },
];

// f16 storage rounds the output to 11 significant bits (half an ulp: 2^-11 = 4.9e-4 of a
// value); the f32 accumulation of at most a few hundred products adds far less. Measured on
// lavapipe: 2.5e-4 to 3.9e-4 of the largest output, the same on both schedules. Bound: 1e-3.
const CONV_TOL = 1e-3;

for (const schedule of ['direct', 'tiled'] as const) {
  for (const c of CASES) {
    test(`f16 conv2d (${schedule}): ${c.what} within ${CONV_TOL} of float64 on the f16 operands`, async () => {
      if (!hasF16) return;
      const g = geom(c);
      const xs = [...randn(c.N * c.Cin * c.H * c.W, 11, 1)].map(roundToHalf);
      const ws = [...randn(c.Cout * (c.Cin / (c.groups ?? 1)) * c.KH * c.KW, 12, 0.2)].map(roundToHalf);
      const bias = c.bias ? [...randn(c.Cout, 13, 0.5)] : null;
      const outN = g.N * g.Cout * g.OH * g.OW;
      const scale = [...randn(c.Cout, 14, 1)];
      const shift = [...randn(c.Cout, 15, 0.5)];
      const res = [...randn(outN, 16, 1)].map(roundToHalf);
      const ref = convForward(g, xs, ws, bias);
      const P = g.OH * g.OW;
      if (c.epilogue) {
        for (let i = 0; i < ref.length; i++) {
          const ch = Math.floor(i / P) % g.Cout;
          ref[i] = Math.max(ref[i] * scale[ch] + shift[ch] + res[i], 0);
        }
      }
      const x = tensor(xs, [c.N, c.Cin, c.H, c.W], 'f16');
      const w = tensor(ws, [c.Cout, c.Cin / (c.groups ?? 1), c.KH, c.KW], 'f16');
      const b = bias ? tensor(bias, [c.Cout]) : null;
      const sc = tensor(scale, [c.Cout]);
      const sh = tensor(shift, [c.Cout]);
      const r = tensor(res, [g.N, g.Cout, g.OH, g.OW], 'f16');
      const y = withTuning({ convSchedule: schedule, convDirectTile: c.tile ?? null }, () =>
        conv2dRaw(x, w, b, { stride: c.stride, padding: c.padding }, c.epilogue ? { scale: sc, shift: sh, residual: r, relu: true } : {}));
      assert.is(y.dtype, 'f16', 'f16 in, f16 out');
      const err = relError(await y.toArray(), ref);
      assert.ok(err < CONV_TOL, `relative error ${err.toExponential(2)} above ${CONV_TOL}`);
      for (const t of [x, w, b, sc, sh, r, y]) t?.dispose();
    });
  }
}

test('f16 tensors are refused by name outside the inference ops (mixed conv dtypes, elementwise, shape ops)', async () => {
  if (!hasF16) return;
  const x = tensor(new Float32Array(2 * 4 * 4), [1, 2, 4, 4], 'f16');
  const w = tensor(new Float32Array(3 * 2 * 9), [3, 2, 3, 3]);
  await assertThrowsWith(() => conv2dRaw(x, w, null, { padding: 1 }), ['conv2d', 'f16', 'f32'], 'f16 input with an f32 weight');
  await assertThrowsWith(() => add(x, x), ['add', 'f16'], 'add of f16 tensors');
  await assertThrowsWith(() => permute(x, [0, 2, 3, 1]), ['f16', "cast(x, 'f32')"], 'permute of an f16 tensor');
  x.dispose();
  w.dispose();
});

test('f16 max pooling equals the f32 pooling of the same halves exactly', async () => {
  if (!hasF16) return;
  const xs = [...randn(2 * 5 * 13 * 11, 21, 3)].map(roundToHalf);
  const x32 = tensor(xs, [2, 5, 13, 11]);
  const x16 = tensor(xs, [2, 5, 13, 11], 'f16');
  const opts = { kernel: 3, stride: 2, padding: 1 };
  const a = noGrad(() => maxPool2d(x32, opts));
  const b = noGrad(() => maxPool2d(x16, opts));
  assert.is(b.dtype, 'f16');
  assert.equal([...(await b.toArray())], [...(await a.toArray())]);
  for (const t of [x32, x16, a, b]) t.dispose();
});

function topk(row: Float32Array, k: number): number[] {
  return Array.from(row, (v, i) => [v, i]).sort((p, q) => q[0] - p[0]).slice(0, k).map((p) => p[1]);
}

// The ResNet-50 layout at base width 2 (kernels-test/nn/fixtures), two 64x64 images, 10
// classes. Measured on lavapipe: f16 logits within 3.2e-4 of the largest f32 logit
// (relative); bound 2e-3. The top-5 classes of each image, in order, are the same.
const RESNET_TOL = 2e-3;

test(`ResNet-50 layout fixture in f16: same top-5 as f32, logits within ${RESNET_TOL} (relative)`, async () => {
  if (!hasF16) return;
  const fixture = readSafetensors(new Uint8Array(readFileSync('kernels-test/nn/fixtures/resnet50_w2.safetensors'))).tensors;
  const dict: StateDict = new Map();
  for (const [k, v] of fixture) if (k.startsWith('w.')) dict.set(k.slice(2), v);
  const model = new ResNet({ depth: 50, baseWidth: 2, numClasses: 10 });
  model.loadStateDict(dict);
  model.eval();
  const input = fixture.get('input')!;
  const x = tensor(hostTensorToFloat32(input), input.shape);
  const l32 = (await noGrad(() => model.forward(x)).toArray()) as Float32Array;
  model.setPrecision('f16');
  assert.is(model.precision, 'f16');
  const l16 = (await noGrad(() => model.forward(x)).toArray()) as Float32Array;
  const err = relError(l16, l32);
  console.log(`  ResNet fixture: f16 logits relative error ${err.toExponential(2)}`);
  assert.ok(err < RESNET_TOL, `relative error ${err.toExponential(2)} above ${RESNET_TOL}`);
  for (let n = 0; n < 2; n++) {
    assert.equal(topk(l16.subarray(n * 10, n * 10 + 10), 5), topk(l32.subarray(n * 10, n * 10 + 10), 5), `image ${n}: top-5`);
  }
  // back to f32: the same logits as before, bit for bit
  model.setPrecision('f32');
  assert.equal([...(await noGrad(() => model.forward(x)).toArray())], [...l32]);
  x.dispose();
});

test("precision 'auto' and 'f16' resolve to f32 and say why where f16 is missing (forced through the tuning)", async () => {
  const auto = resolvePrecision('auto');
  assert.is(auto.precision, hasF16 ? 'f16' : 'f32');
  assert.ok(auto.reason.includes(hasF16 ? "has 'shader-f16'" : "no 'shader-f16'"), auto.reason);
  const before = tune({ halfPrecision: false });
  try {
    const a = resolvePrecision('auto');
    assert.is(a.precision, 'f32');
    assert.ok(/f32 \(auto: .*(turned off|no 'shader-f16')/.test(a.reason), a.reason);
    const f = resolvePrecision('f16');
    assert.is(f.precision, 'f32');
    assert.ok(f.reason.includes('f16 was asked for but'), f.reason);
    const model = new ResNet({ depth: 18, baseWidth: 2, numClasses: 3 });
    await assertThrowsWith(() => model.setPrecision('f16'), ['setPrecision', 'shader-f16'], 'setPrecision f16 without the feature');
  } finally {
    tune(before);
  }
  assert.is(resolvePrecision('f32').precision, 'f32');
  await assertThrowsWith(() => resolvePrecision('half' as 'f16'), ['precision must be one of', '"half"'], 'bad setting');
});

test.run();
