// Pointwise conv2d (1x1 as batched matmuls) and conv2d's routing: forward and all
// gradients against a float64 CPU reference (finite differences, exact for this linear map).
// Tolerances: forward atol 1e-4 + rtol 1e-4; gradients atol 2e-4 + rtol 2e-4.
import { suite } from 'uvu';
import { init, tensor, parameter, conv2d, conv2dAlgorithm, backward, type ConvOptions } from '../../src/index.js';
import * as assert from 'uvu/assert';
import { randn, prod, assertClose, numericGrad } from '../helpers.js';

const test = suite('conv2d-pointwise');
test.before(async () => {
  await init();
});

interface Case { N: number; C: number; H: number; W: number; Cout: number; K: number; stride: number; pad: number; dil: number; bias: boolean }

function outSize(c: Case): [number, number] {
  const f = (s: number) => Math.floor((s + 2 * c.pad - c.dil * (c.K - 1) - 1) / c.stride) + 1;
  return [f(c.H), f(c.W)];
}

function cpuConv(c: Case, x: ArrayLike<number>, w: ArrayLike<number>, b: ArrayLike<number> | null): Float64Array {
  const [OH, OW] = outSize(c);
  const out = new Float64Array(c.N * c.Cout * OH * OW);
  for (let n = 0; n < c.N; n++) for (let o = 0; o < c.Cout; o++) for (let oy = 0; oy < OH; oy++) for (let ox = 0; ox < OW; ox++) {
    let s = b ? b[o] : 0;
    for (let ci = 0; ci < c.C; ci++) for (let i = 0; i < c.K; i++) for (let j = 0; j < c.K; j++) {
      const iy = oy * c.stride - c.pad + i * c.dil;
      const ix = ox * c.stride - c.pad + j * c.dil;
      if (iy < 0 || ix < 0 || iy >= c.H || ix >= c.W) continue;
      s += x[((n * c.C + ci) * c.H + iy) * c.W + ix] * w[((o * c.C + ci) * c.K + i) * c.K + j];
    }
    out[((n * c.Cout + o) * OH + oy) * OW + ox] = s;
  }
  return out;
}

const cases: Case[] = [
  { N: 2, C: 17, H: 9, W: 9, Cout: 33, K: 1, stride: 1, pad: 0, dil: 1, bias: true },
  { N: 1, C: 3, H: 7, W: 13, Cout: 5, K: 1, stride: 1, pad: 0, dil: 1, bias: false },
  { N: 3, C: 64, H: 2, W: 2, Cout: 7, K: 1, stride: 1, pad: 0, dil: 1, bias: false },
  // not pointwise: routed to the implicit-GEMM conv
  { N: 1, C: 4, H: 13, W: 13, Cout: 6, K: 1, stride: 2, pad: 0, dil: 1, bias: false },
  { N: 1, C: 3, H: 7, W: 7, Cout: 5, K: 3, stride: 1, pad: 1, dil: 1, bias: true },
];

test('routing: only 1x1 / stride 1 / unpadded convolutions are pointwise (matmuls in every pass, any schedule)', () => {
  const matmulEverywhere = (w: number[], o: ConvOptions = {}) => (['tiled', 'direct'] as const).every((s) =>
    (['forward', 'gradInput', 'gradWeight'] as const).every((pass) => conv2dAlgorithm([1, 4, 8, 8], w, o, pass, s, true) === 'matmul'));
  assert.ok(matmulEverywhere([8, 4, 1, 1]));
  assert.not.ok(matmulEverywhere([8, 4, 1, 1], { stride: 2 }));
  assert.not.ok(matmulEverywhere([8, 4, 3, 3], { padding: 1 }));
  assert.not.ok(matmulEverywhere([8, 4, 1, 1], { padding: 1 }));
});

for (const c of cases) {
  test(`conv ${JSON.stringify(c)}`, async () => {
    const xs = [c.N, c.C, c.H, c.W];
    const ws = [c.Cout, c.C, c.K, c.K];
    const x = randn(prod(xs), 1);
    const w = randn(prod(ws), 2, 0.3);
    const b = c.bias ? randn(c.Cout, 3) : null;
    const tx = parameter(x, xs);
    const tw = parameter(w, ws);
    const tb = b ? parameter(b, [c.Cout]) : null;
    const y = conv2d(tx, tw, tb, { stride: c.stride, padding: c.pad, dilation: c.dil });
    const expected = cpuConv(c, x, w, b);
    assertClose(await y.toArray(), expected, { atol: 1e-4, rtol: 1e-4 }, 'forward');
    const g = randn(expected.length, 4);
    backward(y, { gradient: tensor(g, y.shape) });
    // analytic CPU gradients: dx and dw by linearity (finite differences on a linear map are exact)
    const tol = { atol: 2e-4, rtol: 2e-4 };
    if (prod(xs) <= 1500) assertClose(await tx.grad!.toArray(), numericGrad((v) => cpuConv(c, v, w, b), x, g, 1e-3), tol, 'dx');
    if (prod(ws) <= 1200) assertClose(await tw.grad!.toArray(), numericGrad((v) => cpuConv(c, x, v, b), w, g, 1e-3), tol, 'dw');
    if (b) assertClose(await tb!.grad!.toArray(), numericGrad((v) => cpuConv(c, x, w, v), b, g, 1e-3), tol, 'db');
  });
}

test.run();
