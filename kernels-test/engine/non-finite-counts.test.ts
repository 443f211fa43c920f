// nonFiniteCounts: the NaN / infinity count of each tensor, on the GPU, against a CPU count;
// every size class (empty, below and above one workgroup's stride, vec4-odd), and the
// trainer's use: concatenated after other values, one readback.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { init, tensor, empty, nonFiniteCounts, concat, firstNonFiniteStep } from '../../src/index.js';
import { assertThrowsWith } from '../helpers.js';

const test = suite('non-finite-counts');
test.before(async () => {
  await init();
});

/** Values with NaN / ±Infinity at pseudo-random places (the tensor() upload refuses them, so they are written with assign). */
function withBadValues(n: number, every: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const r = s / 2 ** 32;
    out[i] = r * every < 1 ? [NaN, Infinity, -Infinity][i % 3]! : (r - 0.5) * 1e30; // large finite values are not counted
  }
  out[0] = 3.4e38; // the largest finite floats are finite
  return out;
}

const cpuCount = (a: Float32Array): number => a.reduce((c, v) => c + (Number.isFinite(v) ? 0 : 1), 0);

test('counts match a CPU count for every size', async () => {
  const sizes = [1, 3, 255, 256, 257, 1000, 4099, 70_001];
  const hosts = sizes.map((n, k) => withBadValues(n, 1 + (k % 4) * 7, 11 + k));
  const ts = hosts.map((h) => {
    const t = empty([h.length]);
    t.assign(h);
    return t;
  });
  const counts = Array.from(await nonFiniteCounts(ts).toArray());
  assert.equal(counts, hosts.map(cpuCount));
  assert.ok(counts.some((c) => c > 0) && counts.some((c, i) => c < sizes[i]!), 'the cases mix finite and non-finite values');
});

test('finite tensors give zeros; an empty list gives an empty vector; integers are refused', async () => {
  assert.equal(Array.from(await nonFiniteCounts([tensor([1, -2, 0], [3]), empty([0]), tensor([5], [1])]).toArray()), [0, 0, 0]);
  assert.is(nonFiniteCounts([]).size, 0);
  await assertThrowsWith(() => nonFiniteCounts([tensor([1], [1], 'i32')]), ['nonFiniteCounts', 'f32', 'i32'], 'i32');
});

test('read with the guard marker in one readback', async () => {
  const w = empty([2, 2]);
  w.assign(Float32Array.of(1, NaN, 2, 3));
  const marker = firstNonFiniteStep(tensor([-1], [1]), tensor([0.5], [1]), 7);
  const both = Array.from(await concat([marker, nonFiniteCounts([tensor([1], [1]), w])], 0).toArray());
  assert.equal(both, [-1, 0, 1]);
});

test.run();
