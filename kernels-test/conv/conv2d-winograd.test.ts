// Winograd F(2x2, 3x3) and F(4x4, 3x3) convolution (forced with tune({ winograd: 'always', winogradTile: m })):
// forward with every epilogue, input gradient, weight gradient and the autograd op against the float64 CPU reference, on
// odd and even maps, paddings 0-2 (asymmetric too), batch 1 and 2, channel and tile counts
// that are not multiples of 4 (the scalar matmul path); and the automatic choice.
// Tolerance: F(2x2) as in conv2d.test.ts (its transforms only add, subtract and halve); F(4x4)
// ten times looser (coefficients up to 8 and 1/24: about one decimal digit of float32 lost).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  init, tensor, parameter, backward, conv2d, conv2dRaw, conv2dGradInput, conv2dGradWeight, conv2dAlgorithm, tune, type ConvOptions, type ConvPass, type WinogradM, type Tuning,
} from '../../src/index.js';
import { randn, assertClose } from '../helpers.js';
import { type ConvCase, geom, convForward, convGradInput, convGradWeight } from './reference.js';

const test = suite('conv2d-winograd');

let before: Tuning;
test.before(async () => {
  await init();
  before = tune({ winograd: 'always', winogradTile: null });
});
test.after(() => {
  tune(before);
});

let tile: WinogradM = 2;

function tol(expected: ArrayLike<number>): { atol: number; rtol: number } {
  let m = 0;
  for (let i = 0; i < expected.length; i++) m = Math.max(m, Math.abs(expected[i]));
  const loose = tile === 4 ? 10 : 1;
  return { atol: 1e-5 * loose * Math.max(m, 1e-3), rtol: 1e-4 * loose };
}

/** Runs `body` with Winograd forced at every tile size, in both product layouts. */
async function eachTile(body: (m: WinogradM) => Promise<void>): Promise<void> {
  for (const m of [2, 4] as WinogradM[]) {
    for (const layout of ['channel-major', 'tile-major'] as Tuning['winogradLayout'][]) {
      tile = m;
      tune({ winograd: 'always', winogradTile: m, winogradLayout: layout });
      try {
        await body(m);
      } finally {
        tune({ winograd: 'always', winogradTile: null, winogradLayout: 'auto' });
      }
    }
  }
}

const options = (c: ConvCase): ConvOptions => ({ padding: c.padding });

const cases: ConvCase[] = [
  { N: 1, Cin: 3, H: 13, W: 13, Cout: 5, KH: 3, KW: 3, padding: 1 },
  { N: 2, Cin: 8, H: 8, W: 8, Cout: 16, KH: 3, KW: 3, padding: 1 },
  { N: 2, Cin: 5, H: 7, W: 9, Cout: 7, KH: 3, KW: 3, padding: 0 },
  { N: 1, Cin: 6, H: 6, W: 5, Cout: 3, KH: 3, KW: 3, padding: 2 },
  { N: 2, Cin: 4, H: 9, W: 6, Cout: 6, KH: 3, KW: 3, padding: [0, 2] },
  { N: 1, Cin: 33, H: 3, W: 3, Cout: 17, KH: 3, KW: 3, padding: 1 },
  { N: 3, Cin: 20, H: 14, W: 14, Cout: 36, KH: 3, KW: 3, padding: 1 },
  // one channel count a multiple of 4, the other not: the four-filter transforms in one layout only
  { N: 2, Cin: 12, H: 6, W: 6, Cout: 10, KH: 3, KW: 3, padding: 1 },
  { N: 2, Cin: 10, H: 6, W: 6, Cout: 12, KH: 3, KW: 3, padding: 1 },
];

for (const [ci, c] of cases.entries()) {
  const g = geom(c);
  test(`${c.N}x${c.Cin}x${c.H}x${c.W} -> ${c.Cout} p${JSON.stringify(c.padding)}: forward with epilogue, dx, dw (F(2x2), F(4x4))`, () => eachTile(async (m) => {
    const x = randn(c.N * c.Cin * c.H * c.W, 500 + ci);
    const w = randn(c.Cout * c.Cin * 9, 510 + ci, 0.5);
    const b = randn(c.Cout, 520 + ci);
    const scale = randn(c.Cout, 530 + ci);
    const shift = randn(c.Cout, 540 + ci);
    const yShape = [g.N, g.Cout, g.OH, g.OW];
    const res = randn(g.N * g.Cout * g.OH * g.OW, 550 + ci);
    const gy = randn(res.length, 560 + ci);
    const P = g.OH * g.OW;
    const plain = convForward(g, x, w, null);
    const fused = convForward(g, x, w, b).map((v, i) => {
      const ch = Math.floor(i / P) % c.Cout;
      return Math.max(v * scale[ch] + shift[ch] + res[i], 0);
    });
    const tx = tensor(x, [c.N, c.Cin, c.H, c.W]);
    const tw = tensor(w, [c.Cout, c.Cin, 3, 3]);
    assertClose(await conv2dRaw(tx, tw, null, options(c)).toArray(), plain, tol(plain), `F(${m}) forward`);
    const out = conv2dRaw(tx, tw, tensor(b, [c.Cout]), options(c),
      { scale: tensor(scale, [c.Cout]), shift: tensor(shift, [c.Cout]), residual: tensor(res, yShape), relu: true });
    assertClose(await out.toArray(), fused, tol(fused), `F(${m}) forward, bias + affine + residual + ReLU`);
    const dx = convGradInput(g, gy, w);
    assertClose(await conv2dGradInput(tensor(gy, yShape), tw, tx.shape, options(c)).toArray(), dx, tol(dx), `F(${m}) dx`);
    const dw = convGradWeight(g, gy, x);
    assertClose(await conv2dGradWeight(tensor(gy, yShape), tx, tw.shape, options(c)).toArray(), dw, tol(dw), `F(${m}) dw`);
  }));
}

test('autograd conv2d through Winograd: dx and dw of a training step (F(2x2), F(4x4))', () => eachTile(async () => {
  const c: ConvCase = { N: 2, Cin: 6, H: 11, W: 11, Cout: 10, KH: 3, KW: 3, padding: 1 };
  const g = geom(c);
  const x = randn(c.N * c.Cin * c.H * c.W, 601);
  const w = randn(c.Cout * c.Cin * 9, 602, 0.5);
  const gy = randn(g.N * g.Cout * g.OH * g.OW, 603);
  const tx = parameter(x, [c.N, c.Cin, c.H, c.W]);
  const tw = parameter(w, [c.Cout, c.Cin, 3, 3]);
  const y = conv2d(tx, tw, null, options(c));
  backward(y, { gradient: tensor(gy, [...y.shape]) });
  const dx = convGradInput(g, gy, w);
  const dw = convGradWeight(g, gy, x);
  assertClose(await tx.grad!.toArray(), dx, tol(dx), 'dx');
  assertClose(await tw.grad!.toArray(), dw, tol(dw), 'dw');
}));

test("'auto' takes Winograd on wide problems of the direct schedule only (and 1x1 forwards the matmul)", () => {
  tune({ winograd: 'auto', winogradTile: null });
  try {
    const algo = (x: number[], w: number[], o: ConvOptions, pass: ConvPass, s: 'direct' | 'tiled') => conv2dAlgorithm(x, w, o, pass, s);
    const p1 = { padding: 1 };
    assert.is(algo([1, 256, 14, 14], [256, 256, 3, 3], p1, 'forward', 'direct'), 'winograd-2x2', 'ResNet-50 layer3 3x3 at batch 1 (16 4x4 tiles: too few)');
    assert.is(algo([32, 64, 16, 16], [64, 64, 3, 3], p1, 'gradInput', 'direct'), 'winograd-4x4', 'ResNet-18 layer1 dgrad at batch 32');
    assert.is(algo([32, 64, 16, 16], [64, 64, 3, 3], p1, 'gradWeight', 'direct'), 'winograd-4x4', 'ResNet-18 layer1 wgrad at batch 32');
    assert.is(algo([1, 512, 7, 7], [512, 512, 3, 3], p1, 'forward', 'direct'), 'gemm', '16 tiles: too few');
    assert.is(algo([32, 8, 16, 16], [8, 8, 3, 3], p1, 'forward', 'direct'), 'gemm', '8 channels: too narrow');
    assert.is(algo([96, 64, 1, 1], [64, 64, 3, 3], p1, 'forward', 'direct'), 'gemm', '1x1 maps: 16 multiplies for 9 useful');
    assert.is(algo([96, 64, 3, 3], [64, 64, 3, 3], p1, 'forward', 'direct'), 'winograd-4x4', '3x3 maps: one F(4x4) tile each (F(2x2) would save only 1.27x)');
    assert.is(algo([8, 64, 56, 56], [64, 64, 3, 3], p1, 'forward', 'direct'), 'winograd-4x4', 'ResNet-50 layer1 at batch 8');
    assert.is(algo([1, 64, 56, 56], [64, 64, 3, 3], p1, 'forward', 'direct'), 'winograd-4x4', 'ResNet-50 layer1 at batch 1 (196 tiles)');
    assert.is(algo([32, 512, 2, 2], [512, 512, 3, 3], p1, 'gradWeight', 'direct'), 'winograd-2x2', 'ResNet-18 layer4 at batch 32 @64 (2x2 maps: one F(2x2) tile)');
    assert.is(algo([1, 256, 14, 14], [256, 256, 3, 3], p1, 'forward', 'tiled'), 'gemm', 'tiled (GPU) schedule');
    assert.is(algo([1, 256, 14, 14], [256, 256, 3, 3], { padding: 1, stride: 2 }, 'forward', 'direct'), 'gemm', 'stride 2');
    assert.is(algo([1, 256, 14, 14], [256, 128, 3, 3], { padding: 1, groups: 2 }, 'forward', 'direct'), 'gemm', 'groups');
    assert.is(algo([1, 256, 14, 14], [256, 256, 3, 3], { padding: 1, dilation: 2 }, 'forward', 'direct'), 'gemm', 'dilation');
    assert.is(algo([1, 256, 14, 14], [256, 256, 1, 1], {}, 'forward', 'direct'), 'matmul', '1x1 forward: the matmul kernel');
    assert.is(algo([1, 256, 56, 56], [512, 256, 1, 1], { stride: 2 }, 'forward', 'direct'), 'matmul', '1x1 stride 2 forward (subsampled first)');
    assert.is(algo([1, 256, 14, 14], [256, 256, 1, 1], { padding: 1 }, 'forward', 'direct'), 'gemm', 'padded 1x1');
    assert.is(algo([1, 256, 14, 14], [256, 256, 1, 1], {}, 'gradInput', 'direct'), 'gemm', '1x1 input gradient');
    assert.is(algo([1, 256, 14, 14], [256, 256, 1, 1], {}, 'forward', 'tiled'), 'gemm', '1x1 forward, tiled');
    const op = (x: number[], w: number[], o: ConvOptions, pass: ConvPass, s: 'direct' | 'tiled') => conv2dAlgorithm(x, w, o, pass, s, true);
    for (const s of ['direct', 'tiled'] as const) {
      for (const pass of ['forward', 'gradInput', 'gradWeight'] as const) {
        assert.is(op([1, 256, 14, 14], [256, 256, 1, 1], {}, pass, s), 'matmul', `autograd 1x1 ${pass} (${s}): the matmul`);
      }
    }
    assert.is(op([1, 256, 56, 56], [512, 256, 1, 1], { stride: 2 }, 'gradInput', 'direct'), 'gemm', 'autograd 1x1 stride 2 input gradient');
    assert.is(op([1, 256, 56, 56], [512, 256, 1, 1], { stride: 2 }, 'forward', 'tiled'), 'gemm', 'autograd 1x1 stride 2 forward, tiled');
    assert.is(op([1, 256, 14, 14], [256, 256, 3, 3], p1, 'forward', 'direct'), 'winograd-2x2', 'autograd 3x3 as the raw entries');
    tune({ winograd: 'never', winogradTile: null });
    assert.is(algo([1, 256, 14, 14], [256, 256, 3, 3], p1, 'forward', 'direct'), 'gemm', "'never'");
    tune({ winograd: 'always', winogradTile: 2 });
    assert.is(algo([1, 4, 14, 14], [4, 4, 3, 3], p1, 'forward', 'tiled'), 'winograd-2x2', "'always' with the tile forced");
    tune({ winograd: 'always', winogradTile: null });
    assert.is(algo([1, 4, 14, 14], [4, 4, 3, 3], p1, 'forward', 'tiled'), 'winograd-2x2', "'always' (tile per shape: 16 4x4 tiles are too few)");
  } finally {
    tune({ winograd: 'always', winogradTile: null });
  }
});

test('clear error for an unknown mode', () => {
  assert.throws(() => tune({ winograd: 'sometimes' as never }), /'auto', 'always' or 'never'/);
  assert.throws(() => tune({ winogradTile: 3 as never }), /winogradTile/);
  assert.throws(() => tune({ winogradLayout: 'diagonal' as never }), /'channel-major' or 'tile-major'/);
});

test.run();
