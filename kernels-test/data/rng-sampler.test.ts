import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DataRng, RASampler } from '../../src/index.js';
import { mean, near, std, throwsWith } from './helpers.js';

test('DataRng: same seed, same stream; different seeds differ', () => {
  const a = new DataRng(42), b = new DataRng(42), c = new DataRng(43);
  const xa = Array.from({ length: 8 }, () => a.nextUint32());
  const xb = Array.from({ length: 8 }, () => b.nextUint32());
  const xc = Array.from({ length: 8 }, () => c.nextUint32());
  assert.equal(xa, xb);
  assert.not.equal(xa, xc);
  assert.ok(xa.every((x) => Number.isInteger(x) && x >= 0 && x < 2 ** 32));
});

test('DataRng: getState/setState replays the stream exactly', () => {
  const r = new DataRng(7);
  for (let i = 0; i < 13; i++) r.random();
  const saved = r.getState();
  const json = JSON.parse(JSON.stringify(saved));
  const first = Array.from({ length: 20 }, () => r.random());
  const restored = DataRng.fromState(json);
  assert.equal(Array.from({ length: 20 }, () => restored.random()), first);
  const clone = new DataRng(1);
  clone.setState(saved);
  assert.is(clone.random(), first[0]);
  throwsWith(() => clone.setState([0, 0, 0, 0]), /all-zero/);
  throwsWith(() => clone.setState([1, 2, 3] as unknown as [number, number, number, number]), /four/);
});

test('DataRng.derive: keyed streams are reproducible and distinct', () => {
  const a = DataRng.derive(5, 1, 2).random();
  assert.is(DataRng.derive(5, 1, 2).random(), a);
  const others = [DataRng.derive(5, 2, 1), DataRng.derive(5, 1, 3), DataRng.derive(6, 1, 2), DataRng.derive(5, 1), DataRng.derive(5, 1, 2, 0)]
    .map((r) => r.random());
  for (const o of others) assert.is.not(o, a);
  // Nearby keys must not give correlated first draws.
  const firsts = Array.from({ length: 2000 }, (_, k) => DataRng.derive(0, 0, k).random());
  near(mean(firsts), 0.5, 0.02, 'mean of first draws');
  near(std(firsts), Math.sqrt(1 / 12), 0.015, 'std of first draws');
});

test('DataRng: distributions (uniform, int, normal, bernoulli, permutation)', () => {
  const r = new DataRng(123);
  const u = Array.from({ length: 20000 }, () => r.uniform(2, 4));
  assert.ok(u.every((x) => x >= 2 && x < 4));
  near(mean(u), 3, 0.02, 'uniform mean');
  const counts = new Array(7).fill(0);
  for (let i = 0; i < 70000; i++) counts[r.int(7)]++;
  for (const c of counts) near(c, 10000, 400, 'int(7) bin');
  const incl = new Set(Array.from({ length: 2000 }, () => r.intInclusive(3, 5)));
  assert.equal([...incl].sort(), [3, 4, 5]);
  const n = Array.from({ length: 20000 }, () => r.normal(1, 0.1));
  near(mean(n), 1, 0.003, 'normal mean');
  near(std(n), 0.1, 0.003, 'normal std');
  near(mean(Array.from({ length: 20000 }, () => (r.bernoulli(0.3) ? 1 : 0))), 0.3, 0.015, 'bernoulli');
  const p = r.permutation(100);
  assert.equal([...p].sort((a, b) => a - b), Array.from({ length: 100 }, (_, i) => i));
  assert.not.equal([...p], Array.from({ length: 100 }, (_, i) => i));
  throwsWith(() => r.int(0), /bad bound/);
});

test('RASampler: epoch length int(N*factor), m consecutive copies of a permutation', () => {
  const s = new RASampler(10, { batchSize: 4, repetitions: 3, lengthFactor: 2.0, seed: 1 });
  assert.is(s.epochLength, 20);
  const idx = s.epochIndices(0);
  assert.is(idx.length, 20);
  // Groups of 3 identical values; the distinct values (first 10 groups) form a permutation start.
  for (let g = 0; g + 3 <= 18; g += 3) assert.ok(idx[g] === idx[g + 1] && idx[g] === idx[g + 2], `group at ${g}`);
  const firstTen: number[] = [];
  for (let k = 0; k < 20; k += 3) firstTen.push(idx[k]!);
  assert.is(new Set(firstTen).size, firstTen.length, 'no index repeats inside one permutation pass');
  assert.is(idx[18], idx[19]); // the cut-off group keeps its first copies
  // Non-integer product: int(7 * 1.5) = 10.
  assert.is(new RASampler(7, { batchSize: 3, lengthFactor: 1.5 }).epochLength, 10);
});

test('RASampler: m = 1, factor 2 walks two full permutations', () => {
  const s = new RASampler(50, { batchSize: 16, lengthFactor: 2, seed: 9 });
  const idx = [...s.epochIndices(3)];
  assert.equal(idx.slice(0, 50).sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i));
  assert.equal(idx.slice(50).sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i));
  assert.not.equal(idx.slice(0, 50), idx.slice(50), 'a fresh permutation for the second pass');
});

test('RASampler: batches, drop-last, straddling groups, unshuffled order', () => {
  const s = new RASampler(10, { batchSize: 4, repetitions: 3, lengthFactor: 1.0, seed: 2 });
  const batches = s.epochBatches(0);
  assert.equal(batches.map((b) => b.length), [4, 4, 2]);
  assert.equal(batches.flatMap((b) => [...b]), [...s.epochIndices(0)]);
  assert.is(batches[0]![3], batches[1]![0], 'a repetition group straddles the batch boundary (4 is not a multiple of 3)');
  const d = new RASampler(10, { batchSize: 4, repetitions: 3, lengthFactor: 1.0, seed: 2, dropLast: true });
  assert.equal(d.epochBatches(0).map((b) => b.length), [4, 4]);
  assert.is(d.batchesPerEpoch, 2);
  const plain = new RASampler(4, { batchSize: 8, repetitions: 2, lengthFactor: 2, shuffle: false });
  assert.equal([...plain.epochIndices(0)], [0, 0, 1, 1, 2, 2, 3, 3]);
});

test('RASampler: a last batch below minBatchSize is dropped (a 1-image batch breaks batchnorm in training)', () => {
  // 13 samples in batches of 12: the last batch holds one image.
  const keep = new RASampler(13, { batchSize: 12, seed: 4 });
  assert.equal(keep.epochBatches(0).map((b) => b.length), [12, 1], 'default: kept, as the original (drop_last=False)');
  const s = new RASampler(13, { batchSize: 12, seed: 4, minBatchSize: 2 });
  assert.is(s.batchesPerEpoch, 1);
  assert.equal(s.epochBatches(0).map((b) => b.length), [12]);
  assert.equal([...s.epochBatches(0)[0]!], [...keep.epochBatches(0)[0]!], 'the full batches are unchanged');
  assert.equal([s.next().batch, s.next().epoch], [0, 1], 'the cursor rolls over to the next epoch after the last kept batch');
  // a last batch of two (or more) images is kept
  assert.equal(new RASampler(14, { batchSize: 12, seed: 4, minBatchSize: 2 }).epochBatches(0).map((b) => b.length), [12, 2]);
  // an epoch shorter than the minimum has no batch at all
  assert.is(new RASampler(1, { batchSize: 12, minBatchSize: 2 }).batchesPerEpoch, 0);
  throwsWith(() => new RASampler(13, { batchSize: 12, minBatchSize: 0 }), /minimum batch size 0/);
});

test('RASampler: seeded epochs differ, cursor state resumes exactly', () => {
  const s = new RASampler(30, { batchSize: 8, repetitions: 2, lengthFactor: 2, seed: 11 });
  assert.not.equal([...s.epochIndices(0)], [...s.epochIndices(1)]);
  assert.equal([...s.epochIndices(1)], [...new RASampler(30, { batchSize: 8, repetitions: 2, lengthFactor: 2, seed: 11 }).epochIndices(1)]);
  assert.not.equal([...s.epochIndices(1)], [...new RASampler(30, { batchSize: 8, repetitions: 2, lengthFactor: 2, seed: 12 }).epochIndices(1)]);
  const run = Array.from({ length: 20 }, () => s.next());
  assert.equal(run.slice(0, 8).map((b) => b.epoch), [0, 0, 0, 0, 0, 0, 0, 0]);
  assert.equal(run[8]!.epoch, 1);
  assert.equal(run[8]!.batch, 0);
  const t = new RASampler(30, { batchSize: 8, repetitions: 2, lengthFactor: 2, seed: 11 });
  for (let i = 0; i < 11; i++) t.next();
  const state = JSON.parse(JSON.stringify(t.getState()));
  const u = new RASampler(30, { batchSize: 8, repetitions: 2, lengthFactor: 2, seed: 11 });
  u.setState(state);
  for (let i = 11; i < 20; i++) assert.equal([...u.next().indices], [...run[i]!.indices], `batch ${i}`);
  throwsWith(() => new RASampler(30, { batchSize: 8, seed: 3 }).setState(state), /seed 11/);
  throwsWith(() => new RASampler(0, { batchSize: 8 }), /positive/);
});

test.run();
