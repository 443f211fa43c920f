// MultiGrain margin loss and distance-weighted sampling (DWS) on the GPU.
//
// (a) marginLoss on fixed triplets against PyTorch (tools/gen_margin_fixtures.py re-implements
//     the original MarginLoss and differentiates it with autograd, float64 from f32 inputs):
//     loss rtol 1e-4 (atol 1e-6), active-term count exact, gradients rtol 1e-3 (atol 1e-6).
// (b) the sampler's empirical negative frequencies over D = 2000 independent draws against the
//     exact probabilities computed on the CPU in float64 from the same embeddings (same weight
//     formula, masks and fallbacks): with k - 1 = 1 the frequency of j is the normalized row
//     weight p_j; with k - 1 = n >= 2 without replacement, the inclusion probability
//     pi_j = P(j among the n draws of successive sampling), computed exactly by enumeration;
//     with replacement, the expected count n p_j. Each cell must be within 5 binomial standard
//     deviations (sqrt(D pi (1 - pi)), or sqrt(D n p (1 - p)) with replacement) of its
//     expectation; zero-probability cells must never occur, probability-one cells always.
// (c) masking and fallbacks on hand-made batches: one instance only (no triplets, loss 0, zero
//     gradients), singletons (no anchors, still negatives), a row whose distances all exceed
//     1.4 (uniform over the other instances), too few non-zero weights (with replacement),
//     underflowing weights (uniform), same-instance entries never drawn, reproducibility.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import {
  init, tensor, parameter, backward, noGrad, marginLoss, marginLossWithStats, sampledMarginLoss, distanceWeightedSampling,
  tripletStructure, disposeTriplets, type Tensor,
} from '../../src/index.js';
import { randn, rng, assertClose } from '../helpers.js';

const test = suite('multigrain losses');
test.before(async () => {
  await init();
});

// ---------------------------------------------------------------- CPU references (float64)

/** L2-normalized rows (x / (|x| + 1e-6), as the model does), rounded to f32. */
function normalizedRows(x: ArrayLike<number>, B: number, C: number): Float64Array {
  const out = new Float64Array(B * C);
  for (let i = 0; i < B; i++) {
    let s = 0;
    for (let c = 0; c < C; c++) s += x[i * C + c] ** 2;
    const n = Math.sqrt(s) + 1e-6;
    for (let c = 0; c < C; c++) out[i * C + c] = Math.fround(x[i * C + c] / n);
  }
  return out;
}

const LOG_FLOOR = Math.log(2 ** -150);

/**
 * The original's row distributions: d clamped at 0.5, log w, w = exp(log w - global max)
 * (0 where it underflows in f32), masks, row normalization, and the uniform fallback.
 * Returns p [B * B] and, per row, the number of non-zero entries of the (fallback) row.
 */
function cpuRowDistributions(x: Float64Array, B: number, C: number, ids: ArrayLike<number>, slice = B, cutoff = 0.5, nonzero = 1.4) {
  // with slices (replicas), every quantity is the slice's own: its rows, its max, its candidates
  const sliceIndex = (i: number) => Math.floor(i / slice);
  const d = new Float64Array(B * B);
  const lw = new Float64Array(B * B).fill(-Infinity);
  const M = new Float64Array(Math.ceil(B / slice)).fill(-Infinity);
  for (let i = 0; i < B; i++) {
    for (let j = 0; j < B; j++) {
      if (sliceIndex(i) !== sliceIndex(j)) continue;
      let s = 0;
      for (let c = 0; c < C; c++) s += (x[i * C + c] - x[j * C + c]) ** 2;
      const dist = Math.max(Math.sqrt(s + (i === j ? 1 : 0)), cutoff);
      d[i * B + j] = dist;
      lw[i * B + j] = (2 - C) * Math.log(dist) - ((C - 3) / 2) * Math.log(Math.max(1 - 0.25 * dist * dist, 1e-8));
      M[sliceIndex(i)] = Math.max(M[sliceIndex(i)], lw[i * B + j]);
    }
  }
  const p = new Float64Array(B * B);
  const nonzeroCount = new Int32Array(B);
  const fallback: boolean[] = [];
  for (let i = 0; i < B; i++) {
    let sum = 0;
    const candidate = (j: number) => ids[j] !== ids[i] && sliceIndex(j) === sliceIndex(i);
    for (let j = 0; j < B; j++) {
      const rel = lw[i * B + j] - M[sliceIndex(i)];
      const w = candidate(j) && d[i * B + j] < nonzero && rel > LOG_FLOOR ? Math.exp(rel) : 0;
      p[i * B + j] = w;
      sum += w;
    }
    fallback.push(sum === 0);
    if (sum === 0) for (let j = 0; j < B; j++) p[i * B + j] = candidate(j) ? 1 : 0;
    sum = 0;
    for (let j = 0; j < B; j++) sum += p[i * B + j];
    for (let j = 0; j < B; j++) {
      if (sum > 0) p[i * B + j] /= sum;
      if (p[i * B + j] > 0) nonzeroCount[i]++;
    }
  }
  return { p, nonzeroCount, fallback };
}

/** P(j is among n draws without replacement, each proportional to p among the remaining). */
function inclusionProbabilities(p: ArrayLike<number>, n: number): Float64Array {
  const out = new Float64Array(p.length);
  const walk = (taken: number[], prob: number, left: number) => {
    if (taken.length === n) {
      for (const j of taken) out[j] += prob;
      return;
    }
    for (let j = 0; j < p.length; j++) {
      if (p[j] === 0 || taken.includes(j)) continue;
      walk([...taken, j], (prob * p[j]) / left, left - p[j]);
    }
  };
  let total = 0;
  for (let j = 0; j < p.length; j++) total += p[j];
  walk([], 1, total);
  return out;
}

function cpuMarginLoss(x: ArrayLike<number>, C: number, a: ArrayLike<number>, pIdx: ArrayLike<number>, n: ArrayLike<number>, beta: number, alpha = 0.2) {
  let sum = 0;
  let active = 0;
  for (let t = 0; t < a.length; t++) {
    let sp = 0;
    let sn = 0;
    for (let c = 0; c < C; c++) {
      sp += (x[pIdx[t] * C + c] - x[a[t] * C + c]) ** 2;
      sn += (x[n[t] * C + c] - x[a[t] * C + c]) ** 2;
    }
    const pos = Math.max(Math.sqrt(sp + 1e-8) - beta + alpha, 0);
    const neg = Math.max(beta - Math.sqrt(sn + 1e-8) + alpha, 0);
    sum += pos + neg;
    active += (pos > 0 ? 1 : 0) + (neg > 0 ? 1 : 0);
  }
  return { loss: sum / Math.max(active, 1), active };
}

// ---------------------------------------------------------------- (a) fixtures

interface Fixture {
  name: string; B: number; C: number; T: number; beta: number; alpha: number;
  embeddings: number[]; anchors: number[]; positives: number[]; negatives: number[];
  loss: number; active: number; grad_embeddings: number[]; grad_beta: number;
}
const fixtures = (JSON.parse(readFileSync(new URL('../../../kernels-test/multigrain/fixtures/margin.json', import.meta.url), 'utf8')) as { cases: Fixture[] }).cases;

for (const f of fixtures) {
  test(`marginLoss vs PyTorch: ${f.name}`, async () => {
    const x = parameter(f.embeddings, [f.B, f.C], 'embeddings');
    const beta = parameter([f.beta], [1], 'beta');
    const triplets = {
      anchors: tensor(f.anchors, [f.T], 'i32'),
      positives: tensor(f.positives, [f.T], 'i32'),
      negatives: tensor(f.negatives, [f.T], 'i32'),
    };
    const { loss, activeTerms } = marginLossWithStats(x, beta, triplets, { alpha: f.alpha });
    assert.equal([...loss.shape], []);
    assertClose([await loss.item()], [f.loss], { atol: 1e-6, rtol: 1e-4 }, 'loss');
    assert.is(await activeTerms.item(), f.active, 'active terms');
    backward(loss);
    assertClose(await x.grad!.toArray(), f.grad_embeddings, { atol: 1e-6, rtol: 1e-3 }, 'grad embeddings');
    assertClose(await beta.grad!.toArray(), [f.grad_beta], { atol: 1e-6, rtol: 1e-3 }, 'grad beta');
  });
}

test('marginLoss: only beta needs a gradient; bad shapes throw before any dispatch', async () => {
  const f = fixtures[0];
  const x = tensor(f.embeddings, [f.B, f.C]);
  const beta = parameter([f.beta], [1]);
  const tr = { anchors: tensor(f.anchors, [f.T], 'i32'), positives: tensor(f.positives, [f.T], 'i32'), negatives: tensor(f.negatives, [f.T], 'i32') };
  backward(marginLoss(x, beta, tr, { alpha: f.alpha }));
  assertClose(await beta.grad!.toArray(), [f.grad_beta], { atol: 1e-6, rtol: 1e-3 }, 'grad beta');
  const short = tensor([0], [1], 'i32');
  assert.throws(() => marginLoss(x, beta, { ...tr, negatives: short }), /marginLoss: anchors, positives and negatives must be \[T\]/);
  assert.throws(() => marginLoss(x, tensor([1, 2], [2]), tr), /marginLoss: beta must hold one value/);
  assert.throws(() => marginLoss(x.view([f.B * f.C]), beta, tr), /marginLoss: embeddings must be \[B, C\]/);
});

// ---------------------------------------------------------------- (b) statistics

const D = 2000;

/**
 * Draws D sets of negatives and compares every anchor row's counts with the CPU probabilities.
 * Returns the per-row modes found (for the hand-made tests to assert on).
 */
async function checkFrequencies(what: string, x: Float64Array, B: number, C: number, ids: number[], seed: number, replicas = 1) {
  const s = tripletStructure(ids, replicas);
  const ref = cpuRowDistributions(x, B, C, ids, Math.ceil(B / replicas));
  const emb = tensor(x, [B, C]);
  const tr = distanceWeightedSampling(emb, ids, seed, { draws: D, step: 7, replicas });
  assert.equal([...tr.negatives.shape], [D, s.count], `${what}: negatives shape`);
  assert.equal(Array.from(await tr.anchors.toArray()), Array.from(s.anchors), `${what}: anchors`);
  assert.equal(Array.from(await tr.positives.toArray()), Array.from(s.positives), `${what}: positives`);
  const negs = await tr.negatives.toArray();
  disposeTriplets(tr);
  emb.dispose();
  const modes: Record<number, string> = {};
  for (let r = 0; r < s.rows.length; r += 3) {
    const [i, offset, n] = [s.rows[r], s.rows[r + 1], s.rows[r + 2]];
    const p = ref.p.subarray(i * B, (i + 1) * B);
    const withReplacement = ref.nonzeroCount[i] < n;
    modes[i] = `${ref.fallback[i] ? 'uniform' : 'weighted'}${withReplacement ? ' with replacement' : ''}`;
    const expectedPerDraw = withReplacement ? Array.from(p, (v) => n * v) : Array.from(inclusionProbabilities(p, n));
    const counts = new Float64Array(B);
    for (let dr = 0; dr < D; dr++) {
      const chosen = Array.from(negs.subarray(dr * s.count + offset, dr * s.count + offset + n));
      for (const j of chosen) {
        assert.ok(j >= 0 && j < B, `${what}: anchor ${i} draw ${dr}: index ${j} out of range`);
        assert.ok(ids[j] !== ids[i], `${what}: anchor ${i} draw ${dr}: negative ${j} is the same instance`);
        counts[j]++;
      }
      if (!withReplacement) assert.is(new Set(chosen).size, n, `${what}: anchor ${i} draw ${dr}: repeated negative in ${chosen}`);
    }
    for (let j = 0; j < B; j++) {
      const e = D * expectedPerDraw[j];
      const q = withReplacement ? p[j] : expectedPerDraw[j];
      const sd = Math.sqrt(D * (withReplacement ? n : 1) * q * (1 - q));
      const cell = `${what}: anchor ${i} (${modes[i]}, n=${n}) negative ${j}: count ${counts[j]}, expected ${e.toFixed(1)} ± ${sd.toFixed(1)}`;
      if (expectedPerDraw[j] === 0) assert.is(counts[j], 0, cell);
      else assert.ok(Math.abs(counts[j] - e) <= 5 * sd + 1e-9, cell);
    }
  }
  return modes;
}

test('DWS frequencies, k = 2 (one negative per anchor): match the normalized row weights', async () => {
  const B = 12;
  const C = 4;
  const ids = [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5];
  const x = normalizedRows(randn(B * C, 101), B, C);
  const modes = await checkFrequencies('k=2', x, B, C, ids, 12345);
  assert.ok(Object.values(modes).includes('weighted'));
});

test('DWS frequencies, k = 3 (two negatives without replacement): match the inclusion probabilities', async () => {
  const B = 12;
  const C = 4;
  const ids = [3, 3, 3, 7, 7, 7, 1, 1, 1, 9, 9, 9];
  const x = normalizedRows(randn(B * C, 202), B, C);
  const modes = await checkFrequencies('k=3', x, B, C, ids, 777);
  assert.ok(Object.values(modes).includes('weighted'));
});

test('DWS frequencies, C = 8, mixed k and singletons', async () => {
  const B = 12;
  const C = 8;
  const ids = [0, 1, 0, 2, 2, 3, 0, 4, 5, 5, 6, 1];
  const x = normalizedRows(randn(B * C, 303), B, C);
  await checkFrequencies('C=8 mixed', x, B, C, ids, 99);
});

test('DWS frequencies per replica (B = 14, N = 3: slices of 5, 5, 4): match the per-slice CPU distributions', async () => {
  const B = 14;
  const C = 4;
  // instances 1 and 4 straddle slice borders (rows 4|5 and 9|10): their copies in different
  // slices are no positives of each other
  const ids = [0, 0, 0, 1, 1, 1, 2, 2, 3, 4, 4, 5, 5, 5];
  const x = normalizedRows(randn(B * C, 404), B, C);
  const s = tripletStructure(ids, 3);
  // slice 0 = rows 0-4: instance 0 (3 copies) -> 6 triplets, instance 1 (rows 3, 4) -> 2;
  // slice 1 = rows 5-9: row 5 is alone, 2 (rows 6, 7) -> 2, 3 and 4 alone; slice 2 = rows 10-13: 4 alone, 5 -> 6
  assert.is(s.count, 6 + 2 + 2 + 6);
  const modes = await checkFrequencies('N=3', x, B, C, ids, 4242, 3);
  assert.ok(Object.values(modes).includes('weighted'));
});

test('DWS per replica: no triplet crosses a slice (GPU indices, B = 50, N = 4, 400 draws); N = 1 is the global sampling', async () => {
  const B = 50;
  const C = 8;
  // RA-like batch with m = 3 consecutive copies, shifted by one so that copies straddle slices of 13
  const ids = Array.from({ length: B }, (_, i) => Math.floor((i + 1) / 3));
  const x = tensor(normalizedRows(randn(B * C, 505), B, C), [B, C]);
  const slice = Math.ceil(B / 4);
  const tr = distanceWeightedSampling(x, ids, 31, { draws: 400, replicas: 4 });
  const [a, p, n] = [await tr.anchors.toArray(), await tr.positives.toArray(), await tr.negatives.toArray()];
  const T = tr.count;
  assert.ok(T > 0);
  for (let t = 0; t < T; t++) {
    const sl = Math.floor(a[t] / slice);
    assert.is(Math.floor(p[t] / slice), sl, `triplet ${t}: positive ${p[t]} outside anchor ${a[t]}'s slice`);
    assert.is(ids[p[t]], ids[a[t]], `triplet ${t}: positive of another instance`);
    for (let d = 0; d < 400; d++) {
      const neg = n[d * T + t];
      assert.is(Math.floor(neg / slice), sl, `draw ${d}, triplet ${t}: negative ${neg} outside anchor ${a[t]}'s slice`);
      assert.ok(ids[neg] !== ids[a[t]], `draw ${d}, triplet ${t}: negative of the same instance`);
    }
  }
  // the CPU structure agrees, and every anchor with a copy in its slice is one
  const s = tripletStructure(ids, 4);
  assert.equal(Array.from(a), Array.from(s.anchors));
  for (let i = 0; i < B; i++) {
    const copies = ids.filter((id, j) => id === ids[i] && j !== i && Math.floor(j / slice) === Math.floor(i / slice)).length;
    assert.is(Array.from(s.anchors).filter((v) => v === i).length, copies, `row ${i}: triplets`);
  }
  disposeTriplets(tr);
  // one replica = the whole batch, the same triplets as without the option
  const g1 = distanceWeightedSampling(x, ids, 31, { step: 5, replicas: 1 });
  const g = distanceWeightedSampling(x, ids, 31, { step: 5 });
  assert.equal(Array.from(await g1.negatives.toArray()), Array.from(await g.negatives.toArray()));
  assert.ok(g.count > T, `global sampling pairs the copies split by the slices: ${g.count} triplets against ${T}`);
  disposeTriplets(g1);
  disposeTriplets(g);
  assert.throws(() => distanceWeightedSampling(x, ids, 1, { replicas: 0 }), /replicas must be a positive integer, got 0/);
  x.dispose();
});

// ---------------------------------------------------------------- (c) hand-made batches

/** A unit vector in the plane of e0, e1 at `deg` degrees from e0 (plus a small e2/e3 tilt). */
function atAngle(deg: number, C: number, tilt = 0): number[] {
  const v = new Array<number>(C).fill(0);
  v[0] = Math.cos((deg * Math.PI) / 180);
  v[1] = Math.sin((deg * Math.PI) / 180);
  v[2] = tilt;
  return v;
}

test('DWS: every distance over 1.4 -> uniform over the other instances; too few weights -> with replacement', async () => {
  const C = 4;
  // instance 0: three copies near 0°; instance 1 at 60° (d = 1 from instance 0); instance 2:
  // two copies near 180° (d ~ 2 from instance 0, d ~ 1.73 from instance 1: over 1.4).
  const rows = [atAngle(0, C, 0.05), atAngle(3, C, -0.05), atAngle(-3, C, 0.1), atAngle(60, C), atAngle(180, C, 0.05), atAngle(177, C, -0.05)];
  const ids = [0, 0, 0, 1, 2, 2];
  const B = rows.length;
  const x = normalizedRows(rows.flat(), B, C);
  const modes = await checkFrequencies('hand-made', x, B, C, ids, 4242);
  // rows of instance 0: one non-zero weight (instance 1) for two negatives -> with replacement
  for (const i of [0, 1, 2]) assert.is(modes[i], 'weighted with replacement', `row ${i}`);
  // rows of instance 2: everything beyond 1.4 -> uniform over rows 0..3
  for (const i of [4, 5]) assert.is(modes[i], 'uniform', `row ${i}`);
  // and the deterministic part: instance 0's negatives are always row 3
  const tr = distanceWeightedSampling(tensor(x, [B, C]), ids, 1);
  const negs = Array.from(await tr.negatives.toArray());
  assert.equal(negs.slice(0, 6), [3, 3, 3, 3, 3, 3]);
});

test('DWS: weights that underflow (C = 256, a pair at the 0.5 clamp) -> uniform rows', async () => {
  const C = 256;
  const B = 8;
  const ids = [0, 0, 1, 1, 2, 2, 3, 3];
  const base = randn(B * C, 505);
  // copies of instance 0 almost equal: d < 0.5 dominates the global max by > 104 in log w
  for (let c = 0; c < C; c++) base[C + c] = base[c] + 0.01 * base[7 * C + c];
  const x = normalizedRows(base, B, C);
  const ref = cpuRowDistributions(x, B, C, ids);
  assert.ok(ref.fallback.every((f) => f), 'the reference rows all underflow');
  const modes = await checkFrequencies('underflow', x, B, C, ids, 5);
  assert.ok(Object.values(modes).every((m) => m === 'uniform'));
});

test('DWS: a single instance gives no triplets, and the loss is 0 with zero gradients', async () => {
  const B = 6;
  const C = 8;
  const x = parameter(normalizedRows(randn(B * C, 9), B, C), [B, C], 'x');
  const beta = parameter([1.2], [1], 'beta');
  const tr = distanceWeightedSampling(x, [4, 4, 4, 4, 4, 4], 3);
  assert.is(tr.count, 0);
  assert.equal([...tr.negatives.shape], [0]);
  const { loss, activeTerms } = marginLossWithStats(x, beta, tr);
  assert.is(await loss.item(), 0);
  assert.is(await activeTerms.item(), 0);
  backward(loss);
  assert.ok(Array.from(await x.grad!.toArray()).every((v) => v === 0));
  assert.equal(Array.from(await beta.grad!.toArray()), [0]);
});

test('DWS: singletons give no anchors but can be negatives; same instance never drawn', async () => {
  const ids = [0, 0, 1, 2, 3, 3, 3];
  const s = tripletStructure(ids);
  assert.is(s.count, 1 + 1 + 2 + 2 + 2);
  assert.equal(Array.from(s.anchors), [0, 1, 4, 4, 5, 5, 6, 6]);
  assert.equal(Array.from(s.positives), [1, 0, 5, 6, 4, 6, 4, 5]);
  assert.equal(Array.from(s.rows), [0, 0, 1, 1, 1, 1, 4, 2, 2, 5, 4, 2, 6, 6, 2]);
  const B = ids.length;
  const C = 3;
  const x = tensor(normalizedRows(randn(B * C, 17), B, C), [B, C]);
  const tr = distanceWeightedSampling(x, ids, 11, { draws: 300 });
  const negs = await tr.negatives.toArray();
  const seen = new Set<number>();
  for (let t = 0; t < negs.length; t++) {
    const a = s.anchors[t % s.count];
    assert.ok(ids[negs[t]] !== ids[a], `triplet ${t}: negative ${negs[t]} has anchor ${a}'s instance`);
    seen.add(negs[t]);
  }
  assert.ok(seen.has(2) || seen.has(3), 'singletons can be negatives');
});

test('DWS: reproducible per (seed, step); draws d = step + d; seed as a tensor', async () => {
  const B = 12;
  const C = 16;
  const ids = [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3];
  const x = tensor(normalizedRows(randn(B * C, 31), B, C), [B, C]);
  const run = async (seed: number | Tensor, step: number, draws = 1) =>
    Array.from(await distanceWeightedSampling(x, ids, seed, { step, draws }).negatives.toArray());
  const a = await run(2024, 5);
  assert.equal(await run(2024, 5), a, 'same seed and step');
  assert.equal(await run(tensor([2024], [1], 'u32'), 5), a, 'seed tensor');
  const many = await run(2024, 4, 3);
  assert.equal(many.slice(a.length, 2 * a.length), a, 'draw 1 of step 4 = step 5');
  const others = await Promise.all([run(2024, 6), run(2025, 5), run(1, 5)]);
  assert.ok(others.some((o) => o.join() !== a.join()), 'other seeds or steps differ');
  // anchors x draws above the 65535 workgroups of one grid dimension (folded 2-D grid)
  const draws = 5500;
  const big = await run(2024, 0, draws);
  assert.is(big.length, draws * a.length);
  assert.equal(big.slice(5 * a.length, 6 * a.length), a, 'draw 5 of step 0 = step 5');
  assert.equal(big.slice((draws - 1) * a.length), await run(2024, draws - 1), 'last draw');
});

test('DWS: clear errors for bad inputs', async () => {
  const x = tensor(normalizedRows(randn(12, 1), 4, 3), [4, 3]);
  assert.throws(() => distanceWeightedSampling(x, [0, 0, 1], 1), /distanceWeightedSampling: 3 instance ids for embeddings \[4, 3\]/);
  assert.throws(() => distanceWeightedSampling(x.view([12]), [0], 1), /embeddings must be \[B, C\]/);
  assert.throws(() => distanceWeightedSampling(x, [0, 0, 1, 1], -1), /seed must be a u32/);
  assert.throws(() => distanceWeightedSampling(x, [0, 0.5, 1, 1], 1), /instance id 0.5/);
  assert.throws(() => distanceWeightedSampling(x, tensor([0, 0, 1, 1], [4], 'i32') as unknown as number[], 1), /host numbers/);
});

// ---------------------------------------------------------------- sampling + loss together

test('DWS + marginLoss end to end (B = 24, C = 32, m = 3): loss and gradients vs float64', async () => {
  const B = 24;
  const C = 32;
  const ids = Array.from({ length: B }, (_, i) => Math.floor(i / 3) * 5 + 1);
  const raw = randn(B * C, 61);
  // copies of an image close together, like repeated augmentations
  for (let i = 0; i < B; i++) if (i % 3) for (let c = 0; c < C; c++) raw[i * C + c] = raw[(i - (i % 3)) * C + c] + 0.6 * raw[i * C + c];
  const xv = normalizedRows(raw, B, C);
  const x = parameter(xv, [B, C], 'x');
  const beta = parameter([1.2], [1], 'beta');
  const tr = noGrad(() => distanceWeightedSampling(x, ids, 8, { step: 3 }));
  assert.is(tr.count, 2 * B);
  const { loss, activeTerms } = marginLossWithStats(x, beta, tr);
  const [a, p, n] = await Promise.all([tr.anchors.toArray(), tr.positives.toArray(), tr.negatives.toArray()]);
  const ref = cpuMarginLoss(xv, C, a, p, n, 1.2);
  assertClose([await loss.item()], [ref.loss], { atol: 1e-6, rtol: 1e-4 }, 'loss');
  assert.is(await activeTerms.item(), ref.active);
  // the combined SampledMarginLoss: same seed and step, same triplets, the same loss bit for bit
  const combined = noGrad(() => sampledMarginLoss(x, beta, ids, 8, { step: 3 }));
  assert.is(combined.triplets, 2 * B);
  assert.is(await combined.loss.item(), await loss.item());
  backward(loss);
  // central differences in float64 (the active count held fixed, as in the original)
  const eps = 1e-6;
  const f = (v: Float64Array, b: number) => {
    const r = cpuMarginLoss(v, C, a, p, n, b);
    return (r.loss * Math.max(r.active, 1)) / Math.max(ref.active, 1);
  };
  const gx = new Float64Array(B * C);
  const v = Float64Array.from(xv);
  const pick = rng(3);
  const checked: number[] = [];
  for (let k = 0; k < 64; k++) {
    const e = Math.floor(pick() * B * C);
    checked.push(e);
    v[e] = xv[e] + eps;
    const up = f(v, 1.2);
    v[e] = xv[e] - eps;
    gx[e] = (up - f(v, 1.2)) / (2 * eps);
    v[e] = xv[e];
  }
  const got = await x.grad!.toArray();
  assertClose(checked.map((e) => got[e]), checked.map((e) => gx[e]), { atol: 1e-5, rtol: 1e-3 }, 'grad x (64 entries)');
  const gb = (f(xv, 1.2 + eps) - f(xv, 1.2 - eps)) / (2 * eps);
  assertClose(await beta.grad!.toArray(), [gb], { atol: 1e-5, rtol: 1e-3 }, 'grad beta');
});

test.run();
