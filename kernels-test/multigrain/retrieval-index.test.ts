// RetrievalIndex: add / search (each entry finds itself first, results match a CPU ranking,
// chunked and streamed the same as resident), a save / load round trip, and clear errors for
// another dimension, k <= 0, an empty index, a missing or foreign file.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { init, RetrievalIndex, writeSafetensors } from '../../src/index.js';
import { rng, assertThrowsWith } from '../helpers.js';
import { scratchDir } from '../scratch-dir.js';

const test = suite('retrieval-index');

test.before(async () => {
  await init();
});

function vectors(n: number, d: number, seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n * d }, () => r() * 2 - 1);
}

/** CPU cosine ranking of one query. */
function ranking(index: RetrievalIndex, q: Float32Array): number[] {
  const norm = Math.hypot(...q);
  const s = Array.from({ length: index.size }, (_, r) => index.vector(r).reduce((a, v, i) => a + v * q[i]!, 0) / norm);
  return s.map((_, r) => r).sort((a, b) => s[b]! - s[a]! || a - b);
}

test('each entry finds itself first; results follow the CPU ranking; chunked, streamed and resident agree', async () => {
  const d = 24;
  const data = vectors(300, d, 1);
  const ids = Array.from({ length: 300 }, (_, i) => `img/${i}.jpg`);
  const resident = new RetrievalIndex(d);
  resident.add(data.subarray(0, 100 * d), ids.slice(0, 100));
  resident.add(data.subarray(100 * d), ids.slice(100)); // a second add after a search-free start
  const streamed = new RetrievalIndex(d, { chunkRows: 64, gpuBudgetBytes: 64 * d * 4 }); // one chunk kept, the rest streamed
  streamed.add(data, ids);
  for (const index of [resident, streamed]) {
    const hits = await index.search(data, 5);
    assert.is(hits.length, 300);
    hits.forEach((h, i) => {
      assert.is(h.ids[0], `img/${i}.jpg`, `query ${i} finds itself`);
      assert.ok(Math.abs(h.scores[0]! - 1) < 1e-5, `self-similarity ${h.scores[0]}`);
    });
    const q = vectors(1, d, 2);
    const [h] = await index.search(q, 10);
    assert.equal(Array.from(h!.rows), ranking(index, q).slice(0, 10));
    index.dispose();
  }
  // adding after a search invalidates the chunk that grew
  streamed.add(vectors(1, d, 3), ['late']);
  const [late] = await streamed.search(vectors(1, d, 3), 1);
  assert.equal(late!.ids, ['late']);
  streamed.dispose();
});

test('k above the index size returns every entry', async () => {
  const index = new RetrievalIndex(4);
  index.add(vectors(3, 4, 4), [7, 8, 9]);
  const [h] = await index.search(vectors(1, 4, 5), 10);
  assert.equal([...h!.ids].sort(), [7, 8, 9]);
  index.dispose();
});

test('save / load round trip: same vectors, ids, settings and results', async () => {
  const dir = scratchDir('index');
  const index = new RetrievalIndex(16, { settings: { checkpoint: 'model.safetensors', inputSize: 64 } });
  index.add(vectors(50, 16, 6), Array.from({ length: 50 }, (_, i) => `p${i}`));
  const file = join(dir, 'photos.index');
  await index.save(file);
  const back = await RetrievalIndex.load(file);
  assert.is(back.dim, 16);
  assert.is(back.size, 50);
  assert.equal(back.ids, index.ids);
  assert.equal(back.settings, { checkpoint: 'model.safetensors', inputSize: 64 });
  assert.equal(Array.from(back.vector(49)), Array.from(index.vector(49)));
  const q = vectors(3, 16, 7);
  const [a, b] = [await index.search(q, 5), await back.search(q, 5)];
  assert.equal(b.map((h) => h.ids), a.map((h) => h.ids));
  index.dispose();
  back.dispose();
});

test('bad input: other dimension, k <= 0, empty index, bad vectors, missing or foreign file', async () => {
  const index = new RetrievalIndex(8);
  await assertThrowsWith(() => index.search(vectors(1, 8, 8), 3), ['index is empty'], 'empty index');
  index.add(vectors(4, 8, 9), ['a', 'b', 'c', 'd']);
  await assertThrowsWith(() => index.search({ rows: 1, dim: 6, data: vectors(1, 6, 10) }, 3), ['6-d vectors', 'index dimension is 8'], 'other dimension');
  await assertThrowsWith(() => index.search(vectors(1, 6, 10), 3), ['6 values', '8-d'], 'flat other dimension');
  await assertThrowsWith(() => index.search(vectors(1, 8, 10), 0), ['k must be a positive integer, got 0'], 'k = 0');
  await assertThrowsWith(() => index.search(vectors(1, 8, 10), -2), ['got -2'], 'k < 0');
  await assertThrowsWith(() => index.search(vectors(1, 8, 10), 5000), ['5000', '1024'], 'k too large');
  await assertThrowsWith(() => index.add(vectors(2, 8, 11), ['x']), ['2 vectors but 1 ids'], 'id count');
  await assertThrowsWith(() => index.add(new Float32Array(8), ['zero']), ['vector 0 is all zeros'], 'zero vector');
  await assertThrowsWith(() => index.add(Float32Array.of(1, 2, NaN, 0, 0, 0, 0, 0), ['nan']), ['non-finite', 'NaN'], 'NaN');
  const dir = scratchDir('index-bad');
  await assertThrowsWith(() => RetrievalIndex.load(join(dir, 'missing.index')), ['missing.index', 'no such index file'], 'missing file');
  const foreign = join(dir, 'weights.safetensors');
  writeFileSync(foreign, writeSafetensors([['w', { dtype: 'f32', shape: [2], data: Float32Array.of(1, 2) }]]));
  await assertThrowsWith(() => RetrievalIndex.load(foreign), ['weights.safetensors', 'not a retrieval index'], 'foreign file');
  writeFileSync(join(dir, 'junk.index'), 'hello');
  await assertThrowsWith(() => RetrievalIndex.load(join(dir, 'junk.index')), ['junk.index', 'not a retrieval index'], 'junk file');
  index.dispose();
});

test.run();
