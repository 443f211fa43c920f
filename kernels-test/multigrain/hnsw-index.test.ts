// HnswIndex (the approximate index, hnswlib-node): recall@10 against the exact GPU search on
// random data with the default parameters, a save / load round trip (same results; the graph
// is read back, not rebuilt; a file without its graph is rebuilt from the vectors), either
// kind opened by openRetrievalIndex, and clear errors for bad parameters, another dimension,
// k <= 0, an empty index.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import {
  init, RetrievalIndex, HnswIndex, HNSW_DEFAULTS, openRetrievalIndex, readSafetensors, writeSafetensors, type SearchHits,
} from '../../src/index.js';
import { rng } from '../helpers.js';
import { scratchDir } from '../scratch-dir.js';

const test = suite('hnsw-index');

test.before(async () => {
  await init();
});

function vectors(n: number, d: number, seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n * d }, () => r() * 2 - 1);
}

function recallAt(got: SearchHits[], exact: SearchHits[], k: number): number {
  let hit = 0;
  exact.forEach((e, q) => {
    const truth = new Set(Array.from(e.rows.subarray(0, k)));
    for (const r of got[q]!.rows.subarray(0, k)) if (truth.has(r)) hit++;
  });
  return hit / (exact.length * k);
}

/** Awaits fn and asserts that it rejects with a message matching re. */
async function assertThrowsWith(fn: () => unknown, re: RegExp): Promise<void> {
  let message: string | null = null;
  try {
    await fn();
  } catch (err) {
    message = (err as Error).message;
  }
  assert.ok(message !== null && re.test(message), `expected an error matching ${re}, got ${message === null ? 'none' : JSON.stringify(message)}`);
}

const N = 2000;
const D = 64;
const Q = 100;
const data = vectors(N, D, 7);
const queries = vectors(Q, D, 8);
const ids = Array.from({ length: N }, (_, i) => `p/${i}.jpg`);

test('recall@10 against the exact GPU search, 2000 x 64 random, 100 queries, defaults: >= 0.95', async () => {
  const exact = new RetrievalIndex(D);
  exact.add(data, ids);
  const truth = await exact.search(queries, 10);
  exact.dispose();
  const hnsw = await HnswIndex.create(D);
  assert.equal([hnsw.m, hnsw.efConstruction, hnsw.efSearch], [HNSW_DEFAULTS.m, HNSW_DEFAULTS.efConstruction, HNSW_DEFAULTS.efSearch]);
  hnsw.add(data.subarray(0, 1500 * D), ids.slice(0, 1500)); // two adds: the graph grows past its first capacity
  hnsw.add(data.subarray(1500 * D), ids.slice(1500));
  assert.is(hnsw.size, N);
  const hits = await hnsw.search(queries, 10);
  const recall = recallAt(hits, truth, 10);
  console.log(`  hnsw recall@10 against exact (2000 x 64, 100 queries, M=${hnsw.m}, efConstruction=${hnsw.efConstruction}, efSearch=${hnsw.efSearch}): ${recall.toFixed(4)}`);
  assert.ok(recall >= 0.95, `recall@10 ${recall}`);
  // a tiny candidate list finds fewer: the parameter reaches hnswlib
  hnsw.efSearch = 1;
  const poor = recallAt(await hnsw.search(queries, 1), truth, 1);
  hnsw.efSearch = 200;
  const good = recallAt(await hnsw.search(queries, 1), truth, 1);
  assert.ok(good >= poor && good > 0.95, `recall@1 with ef 1: ${poor}, ef 200: ${good}`);
  // scores are the exact cosines of what was found, best first; each entry finds itself with score 1
  hits.forEach((h, q) => {
    for (let j = 0; j < h.rows.length; j++) {
      const row = h.rows[j]!;
      assert.is(h.ids[j], ids[row]);
      const norm = Math.hypot(...queries.subarray(q * D, (q + 1) * D));
      const cos = hnsw.vector(row).reduce((s, v, i) => s + v * queries[q * D + i]!, 0) / norm;
      assert.ok(Math.abs(h.scores[j]! - cos) < 1e-5);
      if (j > 0) assert.ok(h.scores[j - 1]! >= h.scores[j]!);
    }
  });
  const self = await hnsw.search(data.subarray(0, 20 * D), 1);
  self.forEach((h, q) => {
    assert.is(h.rows[0], q);
    assert.ok(Math.abs(h.scores[0]! - 1) < 1e-5);
  });
});

test('save / load round trip: same results; the stored graph is used; without it the graph is rebuilt', async () => {
  const dir = scratchDir('hnsw-index');
  const hnsw = await HnswIndex.create(D, { m: 8, efConstruction: 100, efSearch: 50, settings: { checkpoint: '/x.pth' } });
  hnsw.add(data.subarray(0, 500 * D), ids.slice(0, 500));
  const before = await hnsw.search(queries, 10);
  const file = join(dir, 'a.index');
  await hnsw.save(file);
  const meta = readSafetensors(readFileSync(file)).metadata;
  assert.equal([meta.kind, meta.hnsw_m, meta.hnsw_ef_construction, meta.hnsw_ef_search], ['hnsw', '8', '100', '50']);
  const loaded = await HnswIndex.load(file);
  assert.equal([loaded.size, loaded.dim, loaded.m, loaded.efConstruction, loaded.efSearch], [500, D, 8, 100, 50]);
  assert.equal(loaded.settings, { checkpoint: '/x.pth' });
  const after = await loaded.search(queries, 10);
  assert.equal(after.map((h) => [Array.from(h.rows), h.ids, Array.from(h.scores)]), before.map((h) => [Array.from(h.rows), h.ids, Array.from(h.scores)]));
  // openRetrievalIndex tells the kinds apart; the exact reader searches an HNSW file's vectors exactly
  const opened = await openRetrievalIndex(file);
  assert.is(opened.kind, 'hnsw');
  const exactFile = join(dir, 'exact.index');
  const exact = new RetrievalIndex(D);
  exact.add(data.subarray(0, 500 * D), ids.slice(0, 500));
  await exact.save(exactFile);
  assert.is((await openRetrievalIndex(exactFile)).kind, 'exact');
  assert.is((await RetrievalIndex.load(file)).size, 500);
  await assertThrowsWith(() => HnswIndex.load(exactFile), /exact index, not an HNSW one/);
  // the file without its graph tensor: rebuilt from the vectors (same parameters, same seed: same graph)
  const full = readSafetensors(readFileSync(file));
  const noGraph = join(dir, 'no-graph.index');
  writeFileSync(noGraph, writeSafetensors([...full.tensors].filter(([k]) => k !== 'hnsw'), full.metadata));
  const rebuilt = await HnswIndex.load(noGraph, undefined, { efSearch: 50 });
  assert.equal((await rebuilt.search(queries, 10)).map((h) => Array.from(h.rows)), before.map((h) => Array.from(h.rows)));
});

test('bad input: parameters, another dimension, k <= 0, an empty index, a missing file', async () => {
  await assertThrowsWith(() => HnswIndex.create(0), /dimension must be a positive integer/);
  await assertThrowsWith(() => HnswIndex.create(8, { m: 1 }), /m must be an integer >= 2, got 1/);
  await assertThrowsWith(() => HnswIndex.create(8, { efSearch: 0 }), /efSearch must be an integer >= 1/);
  const hnsw = await HnswIndex.create(8);
  await assertThrowsWith(() => hnsw.search(new Float32Array(8).fill(1), 3), /index is empty/);
  assert.throws(() => hnsw.add(new Float32Array(10), ['a']), /10 values are not whole 8-d vectors/);
  assert.throws(() => hnsw.add(new Float32Array(8), ['a']), /vector 0 is all zeros/);
  assert.throws(() => hnsw.add(new Float32Array(16).fill(1), ['a']), /2 vectors but 1 ids/);
  hnsw.add(vectors(3, 8, 1), ['a', 'b', 'c']);
  await assertThrowsWith(() => hnsw.search(new Float32Array(7).fill(1), 3), /7 values are not whole 8-d vectors/);
  await assertThrowsWith(() => hnsw.search(new Float32Array(8).fill(1), 0), /k must be a positive integer, got 0/);
  const all = await hnsw.search(new Float32Array(8).fill(1), 10); // k above the size: every entry
  assert.is(all[0]!.rows.length, 3);
  await assertThrowsWith(() => HnswIndex.load(join(scratchDir('hnsw-bad'), 'nope.index')), /nope\.index: no such index file/);
});

test.run();
