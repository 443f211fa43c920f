// Matmul kernels: every variant (the subgroup kernel where the device has subgroups of 8 lanes,
// as lavapipe does) against a float64 CPU reference on awkward shapes, all four transpose
// combinations, batched (with and without broadcast, folded or not), with bias; the launch-time
// choice; backward (dA, dB) against central finite differences.
// Tolerance: |gpu - ref| <= tol * (1 + |ref|) with tol = 1e-4 * sqrt(K) (f32 accumulation over K
// terms of unit-normal products); backward 1e-4 absolute/relative.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { init, runtime, tensor, parameter, matmul, matmulRaw, linear, backward, hasSubgroupKernel, type Tensor } from '../../src/index.js';
import { randn, assertClose, numericGrad, assertThrowsWith } from '../helpers.js';

const test = suite('matmul');

type Variant = 'vec4-8x16' | 'vec4-4x8' | 'scalar-8x16' | 'scalar-4x8' | 'vec4-subgroup';
/** Every variant this device runs (the subgroup kernel needs subgroups of 8 lanes: lavapipe). */
const VARIANTS: Variant[] = ['vec4-8x16', 'vec4-4x8', 'scalar-8x16', 'scalar-4x8'];
/** Whether a forced variant fits: vec4 needs N % 4 == 0 and B read along N (not transposed, or staged); the subgroup kernel takes no column bias. */
const fits = (v: Variant, N: number, transB: boolean, stageB: boolean, bias = false) =>
  (!v.startsWith('vec4') || (N % 4 === 0 && (!transB || stageB))) && !(bias && v === 'vec4-subgroup');
/** The kernel and variant a vec4 product has here: the subgroup kernel wherever the device has it. */
const vec4Kernel = (name: string) => (hasSubgroupKernel() ? 'matmul/matmul_subgroup vec4-subgroup' : name);
/** With transB, both ways of reading B: strided in place, and staged (copied transposed first). */
const stagings = (transB: boolean) => (transB ? [false, true] : [false]);
const tolFor = (K: number) => ({ atol: 1e-4 * Math.sqrt(Math.max(K, 1)), rtol: 1e-4 * Math.sqrt(Math.max(K, 1)) });

test.before(async () => {
  await init();
  if (hasSubgroupKernel()) VARIANTS.push('vec4-subgroup');
});

/**
 * float64 reference: C[z] = op(A[z]) op(B[z]) (+ bias); a batch of 1 (or a 2-D operand) broadcasts.
 * A is [aB, M, K] ([aB, K, M] if transA), B is [bB, K, N] ([bB, N, K] if transB).
 */
function reference(
  a: ArrayLike<number>, aB: number, b: ArrayLike<number>, bB: number,
  M: number, N: number, K: number, transA: boolean, transB: boolean, bias?: ArrayLike<number>,
): Float64Array {
  const batch = Math.max(aB, bB);
  const out = new Float64Array(batch * M * N);
  for (let z = 0; z < batch; z++) {
    const ao = aB === 1 ? 0 : z * M * K;
    const bo = bB === 1 ? 0 : z * K * N;
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        let s = bias ? bias[n] : 0;
        for (let k = 0; k < K; k++) {
          const av = transA ? a[ao + k * M + m] : a[ao + m * K + k];
          const bv = transB ? b[bo + n * K + k] : b[bo + k * N + n];
          s += av * bv;
        }
        out[z * M * N + m * N + n] = s;
      }
    }
  }
  return out;
}

const shapeA = (M: number, K: number, t: boolean) => (t ? [K, M] : [M, K]);
const shapeB = (K: number, N: number, t: boolean) => (t ? [N, K] : [K, N]);

// M x N x K
const SHAPES: Array<[number, number, number]> = [
  [1, 1, 1], [7, 33, 13], [33, 7, 1000], [64, 64, 64], [65, 129, 31], [100, 1000, 37], [9, 36, 5], [100, 16, 9],
];
const TRANSPOSES: Array<[boolean, boolean]> = [[false, false], [true, false], [false, true], [true, true]];

for (const [M, N, K] of SHAPES) {
  test(`${M}x${N}x${K}: every variant, all transposes, 2-D`, async () => {
    let seed = M * 1000 + N * 10 + K;
    for (const [tA, tB] of TRANSPOSES) {
      const a = randn(M * K, seed++);
      const b = randn(K * N, seed++);
      const ta = tensor(a, shapeA(M, K, tA));
      const tb = tensor(b, shapeB(K, N, tB));
      const expected = reference(a, 1, b, 1, M, N, K, tA, tB);
      for (const variant of VARIANTS) {
        for (const stageB of stagings(tB)) {
          if (!fits(variant, N, tB, stageB)) continue;
          const out = matmulRaw(ta, tb, tA, tB, undefined, { variant, stageB });
          assert.equal([...out.shape], [M, N]);
          assertClose(await out.toArray(), expected, tolFor(K), `${variant} ${M}x${N}x${K} transA=${tA} transB=${tB} stageB=${stageB}`);
          out.dispose();
        }
      }
      ta.dispose();
      tb.dispose();
    }
  });
}

// [aBatch, bBatch, M, N, K]; a 2-D operand is written as batch 0. A shared A folds the batches
// into the columns (odd N: column groups straddle batches), a shared B (A not transposed) into
// the rows; both are also run unfolded.
const BATCHED: Array<[number, number, number, number, number]> = [
  [3, 3, 5, 12, 7],
  [3, 1, 9, 20, 6],
  [1, 4, 17, 8, 33],
  [2, 0, 6, 13, 9], // B is 2-D
  [0, 3, 4, 16, 5], // A is 2-D
  [0, 5, 40, 7, 6], // A is 2-D, 7 columns per batch, 40 rows (B staged when transposed)
  [1, 3, 37, 68, 9], // folded into 204 columns: the subgroup kernel's 64-column form across batches
  [2, 2, 70, 132, 5], // not folded: 64-column form with a partial second group
];
for (const [aB, bB, M, N, K] of BATCHED) {
  test(`batched A[${aB}] x B[${bB}] ${M}x${N}x${K}, with bias, every variant and transpose`, async () => {
    let seed = 7 + aB * 100 + bB * 10 + M;
    const aN = Math.max(aB, 1);
    const bN = Math.max(bB, 1);
    const bias = randn(N, 99);
    const tbias = tensor(bias, [N]);
    for (const [tA, tB] of TRANSPOSES) {
      const a = randn(aN * M * K, seed++);
      const b = randn(bN * K * N, seed++);
      const ta = tensor(a, aB === 0 ? shapeA(M, K, tA) : [aB, ...shapeA(M, K, tA)]);
      const tb = tensor(b, bB === 0 ? shapeB(K, N, tB) : [bB, ...shapeB(K, N, tB)]);
      const batch = Math.max(aN, bN);
      const expected = reference(a, aN, b, bN, M, N, K, tA, tB);
      const expectedBias = reference(a, aN, b, bN, M, N, K, tA, tB, bias);
      for (const variant of VARIANTS) {
        for (const stageB of stagings(tB)) {
          for (const fold of [true, false]) {
            if (!fits(variant, N, tB, stageB)) continue;
            const what = `${variant} A[${aB}]${tA ? 'ᵀ' : ''} B[${bB}]${tB ? 'ᵀ' : ''}${stageB ? ' staged' : ''}${fold ? ' folded' : ''}`;
            const out = matmulRaw(ta, tb, tA, tB, undefined, { variant, stageB, fold });
            assert.equal([...out.shape], [batch, M, N], `${what}: shape`);
            assertClose(await out.toArray(), expected, tolFor(K), what);
            out.dispose();
            if (!fits(variant, N, tB, stageB, true)) continue;
            const outB = matmulRaw(ta, tb, tA, tB, tbias, { variant, stageB, fold });
            assertClose(await outB.toArray(), expectedBias, tolFor(K), `${what} + bias`);
            outB.dispose();
          }
        }
      }
      ta.dispose();
      tb.dispose();
    }
    tbias.dispose();
  });
}

test('2-D with bias (unaligned N), every variant', async () => {
  for (const [M, N, K] of [[5, 7, 3], [65, 129, 31], [8, 1000, 64]] as const) {
    const a = randn(M * K, 3);
    const b = randn(K * N, 4);
    const bias = randn(N, 5);
    for (const [tA, tB] of TRANSPOSES) {
      const ta = tensor(a, shapeA(M, K, tA));
      const tb = tensor(b, shapeB(K, N, tB));
      const tbias = tensor(bias, [N]);
      const expected = reference(a, 1, b, 1, M, N, K, tA, tB, bias);
      for (const variant of VARIANTS) {
        for (const stageB of stagings(tB)) {
          if (!fits(variant, N, tB, stageB, true)) continue;
          const out = matmulRaw(ta, tb, tA, tB, tbias, { variant, stageB });
          assertClose(await out.toArray(), expected, tolFor(K), `${variant} ${M}x${N}x${K} bias transA=${tA} transB=${tB} stageB=${stageB}`);
          out.dispose();
        }
      }
      ta.dispose();
      tb.dispose();
      tbias.dispose();
    }
  }
});

test('row epilogue (bias, scale/shift, residual, ReLU): 2-D and batched over a shared A, every variant', async () => {
  // A shared [M, K] weight over a batch of B (a 1x1 convolution's shape): folded into columns.
  for (const [batch, M, N, K] of [[1, 5, 7, 3], [3, 37, 20, 19], [2, 70, 49, 33]] as const) {
    const a = randn(M * K, 11);
    const b = randn(batch * K * N, 12);
    const rowBias = randn(M, 13);
    const scale = randn(M, 14);
    const shift = randn(M, 15);
    const res = randn(batch * M * N, 16);
    const plain = reference(a, 1, b, batch, M, N, K, false, false);
    const row = (i: number) => Math.floor(i / N) % M;
    const cases = [
      { name: 'bias + affine + residual + relu', epi: { rowBias: true, affine: true, residual: true, relu: true },
        expected: plain.map((v, i) => Math.max((v + rowBias[row(i)]) * scale[row(i)] + shift[row(i)] + res[i], 0)) },
      { name: 'affine only', epi: { affine: true }, expected: plain.map((v, i) => v * scale[row(i)] + shift[row(i)]) },
      { name: 'bias + relu', epi: { rowBias: true, relu: true }, expected: plain.map((v, i) => Math.max(v + rowBias[row(i)], 0)) },
    ];
    const ta = tensor(a, [M, K]);
    const tb = tensor(b, batch === 1 ? [K, N] : [batch, K, N]);
    for (const variant of VARIANTS) {
      if (!fits(variant, N, false, false)) continue;
      for (const c of cases) {
        const out = matmulRaw(ta, tb, false, false, undefined, {
          variant,
          epilogue: {
            rowBias: c.epi.rowBias ? tensor(rowBias, [M]) : null,
            rowScale: c.epi.affine ? tensor(scale, [M]) : undefined,
            rowShift: c.epi.affine ? tensor(shift, [M]) : undefined,
            residual: c.epi.residual ? tensor(res, batch === 1 ? [M, N] : [batch, M, N]) : undefined,
            relu: c.epi.relu,
          },
        });
        assertClose(await out.toArray(), c.expected, tolFor(K), `${variant} batch ${batch} ${M}x${N}x${K}: ${c.name}`);
      }
    }
  }
});

test('row epilogue: clear errors', async () => {
  const a = tensor(randn(6, 1), [2, 3]);
  const b = tensor(randn(12, 2), [3, 4]);
  const v2 = tensor(randn(2, 3), [2]);
  await assertThrowsWith(() => matmulRaw(a, b, false, false, undefined, { epilogue: { rowBias: tensor(randn(3, 4), [3]) } }), ['matmul', 'rowBias', '[3]', '2'], 'row vector length');
  await assertThrowsWith(() => matmulRaw(a, b, false, false, undefined, { epilogue: { rowScale: v2 } }), ['matmul', 'rowScale and rowShift'], 'scale without shift');
  await assertThrowsWith(() => matmulRaw(a, b, false, false, undefined, { epilogue: { residual: tensor(randn(4, 5), [4]) } }), ['matmul', 'residual', '[4]', '8'], 'residual size');
  await assertThrowsWith(() => matmulRaw(a, b, false, false, tensor(randn(4, 6), [4]), { epilogue: { relu: true } }), ['matmul', 'column bias'], 'with a column bias');
});

/** The kernels one call dispatches (from the profiler's per-kernel counts). */
async function kernelsOf(fn: () => Tensor): Promise<string[]> {
  const rt = runtime();
  await rt.sync();
  rt.profiler.start({ byShape: true });
  const out = fn();
  const times = await rt.profiler.stop(rt);
  out.dispose();
  // 'matmul/matmul vec4-8x16 b1 64x256x64' -> 'matmul/matmul vec4-8x16' (kernel and variant)
  return times.map((t) => t.kernel.replace(/ b\d+ \d+x\d+(x\d+)?$/, ''));
}

test('the profiler groups by problem shape when asked (matmul b, M x N x K)', async () => {
  const rt = runtime();
  const a = tensor(randn(2 * 4 * 3, 7), [2, 4, 3]);
  const b = tensor(randn(2 * 3 * 8, 8), [2, 3, 8]);
  const c = tensor(randn(5 * 3, 9), [5, 3]);
  const wide = b.view([3, 16]);
  await rt.sync();
  rt.profiler.start({ byShape: true });
  const outs = [matmulRaw(a, b, false, false, undefined, { fold: false }), matmulRaw(a, b, false, false, undefined, { fold: false }), matmulRaw(c, wide)];
  const times = await rt.profiler.stop(rt);
  const counts = new Map(times.map((t) => [t.kernel, t.dispatches]));
  assert.equal(counts.get('matmul/matmul vec4-8x16 b2 4x8x3') ?? counts.get('matmul/matmul vec4-4x8 b2 4x8x3') ?? counts.get('matmul/matmul_subgroup vec4-subgroup b2 4x8x3'), 2, `two batched 4x8x3 products: ${[...counts.keys()]}`);
  assert.ok([...counts.keys()].some((k) => k.endsWith(' b1 5x16x3')), `one 5x16x3 product: ${[...counts.keys()]}`);
  rt.profiler.start();
  outs.push(matmulRaw(c, wide));
  const plain = await rt.profiler.stop(rt);
  assert.ok(plain.every((t) => !t.kernel.includes(' ')), 'without byShape: kernel names only');
  for (const t of [a, b, c, wide, ...outs]) t.dispose();
});

test('the subgroup kernel sums in the same order as the 8x16 block: bit-identical products (so training does not change)', async () => {
  if (!hasSubgroupKernel()) return;
  for (const [M, N, K, batch] of [[64, 64, 64, 1], [37, 204, 19, 3], [128, 128, 128, 2]]) {
    const a = tensor(randn(batch * M * K, M), [batch, M, K]);
    const b = tensor(randn(batch * K * N, N), [batch, K, N]);
    const sg = matmulRaw(a, b, false, false, undefined, { variant: 'vec4-subgroup' });
    const classic = matmulRaw(a, b, false, false, undefined, { variant: 'vec4-8x16' });
    assert.equal([...(await sg.toArray())], [...(await classic.toArray())], `b${batch} ${M}x${N}x${K}`);
    for (const t of [a, b, sg, classic]) t.dispose();
  }
});

test('the subgroup kernel: forced without subgroups of 8, or with a column bias, is refused with the reason', async () => {
  const a = tensor(randn(8, 1), [2, 4]);
  const b = tensor(randn(16, 2), [4, 4]);
  const bias = tensor(randn(4, 3), [4]);
  await assertThrowsWith(() => matmulRaw(a, b, false, false, bias, { variant: 'vec4-subgroup' }), ['vec4-subgroup', 'no column bias'], 'bias');
  if (!hasSubgroupKernel()) {
    await assertThrowsWith(() => matmulRaw(a, b, false, false, undefined, { variant: 'vec4-subgroup' }), ['vec4-subgroup', 'subgroups of 8 lanes'], 'no subgroups');
  }
  for (const t of [a, b, bias]) t.dispose();
});

test('launch-time choice: vec4 when B is read along N (the subgroup kernel where the device has it), B staged when transposed and M >= 32, block by cost', async () => {
  const cases: Array<[number, number, number, boolean, boolean, string[]]> = [
    [64, 256, 64, false, false, ['matmul/matmul vec4-8x16']],
    [64, 256, 64, true, false, ['matmul/matmul vec4-8x16']],
    [64, 256, 64, false, true, ['matmul/transpose', 'matmul/matmul vec4-8x16']],
    [64, 256, 64, true, true, ['matmul/transpose', 'matmul/matmul vec4-8x16']],
    [64, 250, 64, false, false, ['matmul/matmul scalar-8x16']],
    [64, 250, 64, false, true, ['matmul/matmul scalar-8x16', 'matmul/transpose']],
    [16, 256, 64, false, true, ['matmul/matmul scalar-4x8']], // few rows: B read in place
    [2, 1000, 64, false, true, ['matmul/matmul scalar-4x8']], // 2 rows: the 8-row block would compute 6 for nothing
    [8, 12, 64, false, false, ['matmul/matmul vec4-4x8']], // 3 column groups
  ];
  for (const [M, N, K, tA, tB, expected] of cases) {
    const a = tensor(randn(M * K, 1), shapeA(M, K, tA));
    const b = tensor(randn(K * N, 2), shapeB(K, N, tB));
    const kernels = await kernelsOf(() => matmulRaw(a, b, tA, tB));
    const names = expected.map((k) => (k.startsWith('matmul/matmul vec4') ? vec4Kernel(k) : k));
    assert.equal(kernels.sort(), names.sort(), `${M}x${N}x${K} transA=${tA} transB=${tB}`);
    a.dispose();
    b.dispose();
  }
});

test('backward: dA, dB against finite differences (2-D, all transposes; batched with broadcast B)', async () => {
  const BWD = { atol: 1e-4, rtol: 1e-4 };
  const [M, N, K] = [3, 5, 4];
  for (const [tA, tB] of TRANSPOSES) {
    const a = randn(M * K, 21);
    const b = randn(K * N, 22);
    const w = randn(M * N, 23);
    const pa = parameter(a, shapeA(M, K, tA));
    const pb = parameter(b, shapeB(K, N, tB));
    const out = matmul(pa, pb, { transA: tA, transB: tB });
    assertClose(await out.toArray(), reference(a, 1, b, 1, M, N, K, tA, tB), tolFor(K), 'forward');
    backward(out, { gradient: tensor(w, [M, N]) });
    const ga = numericGrad((x) => reference(x, 1, b, 1, M, N, K, tA, tB), a, w);
    const gb = numericGrad((y) => reference(a, 1, y, 1, M, N, K, tA, tB), b, w);
    assertClose(await pa.grad!.toArray(), ga, BWD, `dA transA=${tA} transB=${tB}`);
    assertClose(await pb.grad!.toArray(), gb, BWD, `dB transA=${tA} transB=${tB}`);
  }
  // batched A [2, M, K] (transposed), 2-D B broadcast over the batch: dB sums the batch
  const a = randn(2 * M * K, 31);
  const b = randn(K * N, 32);
  const w = randn(2 * M * N, 33);
  const pa = parameter(a, [2, K, M]);
  const pb = parameter(b, [N, K]);
  const out = matmul(pa, pb, { transA: true, transB: true });
  assert.equal([...out.shape], [2, M, N]);
  backward(out, { gradient: tensor(w, [2, M, N]) });
  const ga = numericGrad((x) => reference(x, 2, b, 1, M, N, K, true, true), a, w);
  const gb = numericGrad((y) => reference(a, 2, y, 1, M, N, K, true, true), b, w);
  assertClose(await pa.grad!.toArray(), ga, BWD, 'batched dA');
  assertClose(await pb.grad!.toArray(), gb, BWD, 'batched broadcast dB');
});

test('linear: x·Wᵀ + b against the reference, and its gradients', async () => {
  const [B, I, O] = [4, 6, 5];
  const x = randn(B * I, 41);
  const W = randn(O * I, 42);
  const bias = randn(O, 43);
  const w = randn(B * O, 44);
  const px = parameter(x, [B, I]);
  const pW = parameter(W, [O, I]);
  const pb = parameter(bias, [O]);
  const out = linear(px, pW, pb);
  assertClose(await out.toArray(), reference(x, 1, W, 1, B, O, I, false, true, bias), tolFor(I), 'linear forward');
  backward(out, { gradient: tensor(w, [B, O]) });
  const gW = numericGrad((y) => reference(x, 1, y, 1, B, O, I, false, true, bias), W, w);
  const gb = numericGrad((y) => reference(x, 1, W, 1, B, O, I, false, true, y), bias, w);
  assertClose(await pW.grad!.toArray(), gW, { atol: 1e-4, rtol: 1e-4 }, 'linear dW');
  assertClose(await pb.grad!.toArray(), gb, { atol: 1e-4, rtol: 1e-4 }, 'linear db');
});

test('bad input: shape mismatch, unfit variant, wrong bias', async () => {
  const a = tensor(randn(6, 1), [2, 3]);
  const b = tensor(randn(8, 2), [4, 2]);
  await assertThrowsWith(() => matmulRaw(a, b), ['matmul', '[2, 3]', '[4, 2]'], 'inner dims');
  const c = tensor(randn(6, 3), [3, 2]);
  const d = tensor(randn(12, 3), [4, 3]);
  await assertThrowsWith(() => matmulRaw(a, d, false, true, undefined, { variant: 'vec4-8x16', stageB: false }), ['matmul', 'vec4-8x16'], 'vec4 on transB in place');
  await assertThrowsWith(() => matmulRaw(a, c, false, false, undefined, { variant: 'vec4-4x8' }), ['matmul', 'vec4-4x8', 'N % 4'], 'vec4 on odd N');
  await assertThrowsWith(() => matmulRaw(a, c, false, false, tensor(randn(3, 4), [3])), ['matmul', 'bias'], 'bias length');
  const a3 = tensor(randn(2 * 6, 1), [2, 2, 3]);
  const b3 = tensor(randn(3 * 6, 1), [3, 3, 2]);
  await assertThrowsWith(() => matmulRaw(a3, b3), ['matmul', '[2, 2, 3]', '[3, 3, 2]'], 'batch mismatch');
});

test.run();
