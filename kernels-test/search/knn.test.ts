// Exact k-NN on the GPU (ops/knn.ts + kernels/search/topk.ts) against a CPU reference on random
// data: ties (quantized scores, broken by the lower id), k larger than a chunk, k = N, Q = 1,
// k = 1 and k = 1024 (a tile of one run), chunks of uneven sizes, a caller-owned chunk kept
// alive and an uploaded one disposed; bad k and mismatched dimensions refused by name.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { init, tensor, knnSearch, KNN_MAX_K, KNN_NO_ID, type Tensor } from '../../src/index.js';
import { rng, assertThrowsWith } from '../helpers.js';

const test = suite('knn');

test.before(async () => {
  await init();
});

/** Random [n, d] rows; `levels` > 0 quantizes values to that many steps, so that many scores tie exactly. */
function rows(n: number, d: number, seed: number, levels = 0): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n * d }, () => (levels ? Math.floor(r() * levels) / levels : r() * 2 - 1));
}

/** CPU reference: per query, the k best (score desc, then lower id), scores in float64 of the f32 values. */
function reference(q: Float32Array, db: Float32Array, d: number, k: number): { ids: number[][]; scores: number[][] } {
  const nq = q.length / d;
  const n = db.length / d;
  const ids: number[][] = [];
  const scores: number[][] = [];
  for (let i = 0; i < nq; i++) {
    const s = Array.from({ length: n }, (_, j) => {
      let acc = 0;
      for (let c = 0; c < d; c++) acc += q[i * d + c]! * db[j * d + c]!;
      return acc;
    });
    const order = s.map((_, j) => j).sort((a, b) => s[b]! - s[a]! || a - b).slice(0, k);
    ids.push(order);
    scores.push(order.map((j) => s[j]!));
  }
  return { ids, scores };
}

/** Database as chunks of the given row counts, uploaded on demand. */
function chunked(db: Float32Array, d: number, sizes: number[]): (() => Tensor)[] {
  let start = 0;
  return sizes.map((n) => {
    const from = start;
    start += n;
    return () => tensor(db.subarray(from * d, (from + n) * d), [n, d]);
  });
}

async function check(nq: number, n: number, d: number, k: number, sizes: number[], seed: number, levels = 0): Promise<void> {
  const q = rows(nq, d, seed, levels);
  const db = rows(n, d, seed + 1, levels);
  const qt = tensor(q, [nq, d]);
  const out = knnSearch(qt, chunked(db, d, sizes), k);
  const ids = Array.from(await out.ids.toArray());
  const scores = Array.from(await out.scores.toArray());
  assert.equal(out.ids.shape, [nq, k]);
  out.ids.dispose();
  out.scores.dispose();
  qt.dispose();
  const ref = reference(q, db, d, k);
  for (let i = 0; i < nq; i++) {
    for (let j = 0; j < k; j++) {
      const s = scores[i * k + j]!;
      assert.ok(Math.abs(s - ref.scores[i]![j]!) < 1e-4 * (1 + Math.abs(ref.scores[i]![j]!)), `query ${i} rank ${j}: score ${s} vs ${ref.scores[i]![j]}`);
    }
    // With exact ties (quantized data: the GPU and CPU sums are exact), the ids must match
    // one for one; with random data, the ids of scores that differ by more than rounding.
    const got = ids.slice(i * k, (i + 1) * k);
    if (levels) assert.equal(got, ref.ids[i], `query ${i}: ids`);
    else {
      const mismatch = got.findIndex((id, j) => id !== ref.ids[i]![j] && Math.abs(ref.scores[i]![j]! - (ref.scores[i]![j + 1] ?? -Infinity)) > 1e-4);
      assert.is(mismatch, -1, `query ${i}: ids ${got} vs ${ref.ids[i]}`);
    }
  }
}

test('random data, several queries, chunks of uneven sizes, k = 10', async () => {
  await check(5, 3000, 16, 10, [1000, 7, 1993], 1);
});

test('ties broken by the lower id, across chunks (quantized data)', async () => {
  await check(4, 900, 3, 16, [300, 300, 300], 2, 4);
  await check(3, 500, 1, 50, [128, 372], 3, 2); // 1-d, 2 levels: hundreds of equal scores
});

test('k larger than a chunk, k = N, Q = 1, k = 1', async () => {
  await check(3, 400, 8, 100, [30, 30, 40, 300], 4);
  await check(2, 257, 8, 257, [100, 157], 5);
  await check(1, 1000, 32, 7, [1000], 6);
  await check(3, 5000, 4, 1, [2500, 2500], 7);
});

test('k = 1024 (the largest), more rows than one tile', async () => {
  await check(2, 3000, 4, KNN_MAX_K, [3000], 8);
});

test('fewer rows than k: padding entries with the sentinel id and -Infinity', async () => {
  const qt = tensor(rows(1, 4, 9), [1, 4]);
  const db = tensor(rows(3, 4, 10), [3, 4]);
  const out = knnSearch(qt, [db], 5);
  const ids = Array.from(await out.ids.toArray());
  const scores = Array.from(await out.scores.toArray());
  assert.equal(ids.slice(3), [KNN_NO_ID, KNN_NO_ID]);
  assert.equal(scores.slice(3), [-Infinity, -Infinity]);
  assert.equal([...ids.slice(0, 3)].sort(), [0, 1, 2]);
  assert.not.ok(db.disposed, 'a chunk given as a tensor stays the caller\'s');
  [qt, db, out.ids, out.scores].forEach((t) => t.dispose());
});

test('bad k, another dimension, no rows: clear errors', async () => {
  const qt = tensor(rows(2, 4, 11), [2, 4]);
  const db = tensor(rows(3, 4, 12), [3, 4]);
  const other = tensor(rows(3, 5, 13), [3, 5]);
  await assertThrowsWith(() => knnSearch(qt, [db], 0), ['k must be an integer from 1 to 1024', 'got 0'], 'k = 0');
  await assertThrowsWith(() => knnSearch(qt, [db], 1025), ['1024', '1025'], 'k too large');
  await assertThrowsWith(() => knnSearch(qt, [other], 2), ['[3, 5]', 'expected [n, 4]'], 'dimension');
  await assertThrowsWith(() => knnSearch(qt, [], 2), ['no rows'], 'empty');
  [qt, db, other].forEach((t) => t.dispose());
});

test.run();
