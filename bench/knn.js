// Exact k-nearest-neighbour search: our GPU search (RetrievalIndex: the engine's matmul per
// database chunk + the search/topk merge kernel, only [Q, k] read back) against a plain CPU
// exact baseline (JS loops), faiss's flat inner-product index (faiss-node, where it is
// installed; otherwise the row says it was skipped) and our approximate index (HnswIndex:
// hnswlib-node's HNSW graph; its build time, queries/s and recall@k against exact search).
// Random L2-normalized vectors.
// Prints one JSON object per line, then a table: queries/s, recall@k against exact search,
// peak memory.
//
//   node bench/knn.js                                  100k x 2048 database, 1000 queries, top-10
//   node bench/knn.js --db 5000 --queries 50           a quick check
//   node bench/knn.js --cpu-queries 1000               the CPU baseline on every query (slow)
//   node bench/knn.js --no-faiss --no-hnsw
//   node bench/knn.js --m 32 --ef-construction 100 --ef-search 200   HNSW parameters
//   node bench/knn.js --json rows.json                also writes setup and rows as one JSON object
//
// The CPU baseline runs on the first --cpu-queries queries (default 100: 1000 x 100k x 2048 in
// JS loops takes minutes) and its queries/s is measured there; recall@k of every method is
// computed on those queries against its exact float64 ranking (ties by lower id).
// Memory: `gpu_peak_mib` is the engine's buffer-pool peak during the GPU search;
// `peak_rss_mib` the process's peak resident memory so far (it includes the database, 4 bytes
// per value, held by every method). Run `node tools/build.mjs` first. On lavapipe (CPU Vulkan)
// the GPU figures are CPU figures. The HNSW build is single-threaded (hnswlib-node adds one
// point at a time): on 100k x 2048 it takes minutes; --ef-construction trades it for recall.
// Random 2048-d vectors are the worst case for a graph index (every point is nearly as far
// as every other, so there are no neighbourhoods to follow): --db 5000 --queries 50 gave
// recall@10 0.53 with the defaults on 2 CPU cores; real embeddings cluster and do far better.
import { parseArgs } from 'node:util';
import { createRequire } from 'node:module';
import * as mg from '../dist/node/index.js';
import { writeJsonAtomic } from './json-out.js';

const { values: flags } = parseArgs({
  options: {
    db: { type: 'string' }, queries: { type: 'string' }, dim: { type: 'string' }, k: { type: 'string' },
    'cpu-queries': { type: 'string' }, 'no-faiss': { type: 'boolean' }, seed: { type: 'string' },
    'no-hnsw': { type: 'boolean' }, m: { type: 'string' }, 'ef-construction': { type: 'string' }, 'ef-search': { type: 'string' },
    json: { type: 'string' },
  },
});
const N = Number(flags.db ?? 100_000);
const Q = Number(flags.queries ?? 1000);
const D = Number(flags.dim ?? 2048);
const K = Number(flags.k ?? 10);
const QC = Math.min(Q, Number(flags['cpu-queries'] ?? 100));
const HNSW = {
  m: Number(flags.m ?? mg.HNSW_DEFAULTS.m),
  efConstruction: Number(flags['ef-construction'] ?? mg.HNSW_DEFAULTS.efConstruction),
  efSearch: Number(flags['ef-search'] ?? mg.HNSW_DEFAULTS.efSearch),
};
for (const [name, v] of Object.entries({ db: N, queries: Q, dim: D, k: K, 'cpu-queries': QC, m: HNSW.m, 'ef-construction': HNSW.efConstruction, 'ef-search': HNSW.efSearch })) {
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer, got ${v}`);
}

const mib = (bytes) => Number((bytes / 2 ** 20).toFixed(1));
const peakRss = () => mib(process.resourceUsage().maxRSS * 1024);

/** Random unit rows (a seeded LCG, Box-Muller normals). */
function unitRows(n, d, seed) {
  let s = seed >>> 0;
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 1) / 4294967297;
  const out = new Float32Array(n * d);
  for (let r = 0; r < n; r++) {
    let ss = 0;
    for (let i = 0; i < d; i++) {
      const v = Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
      out[r * d + i] = v;
      ss += v * v;
    }
    const inv = 1 / Math.sqrt(ss);
    for (let i = 0; i < d; i++) out[r * d + i] *= inv;
  }
  return out;
}

/** Plain CPU exact search: float64 dot products, a sorted insertion list of k (ties by lower id). */
function cpuSearch(db, queries, nq, k) {
  const ids = [];
  for (let q = 0; q < nq; q++) {
    const best = [];
    const qo = q * D;
    for (let j = 0; j < N; j++) {
      let s = 0;
      const o = j * D;
      for (let i = 0; i < D; i++) s += queries[qo + i] * db[o + i];
      if (best.length === k && s <= best[k - 1][0]) continue;
      let p = Math.min(best.length, k - 1);
      best[p] = [s, j];
      while (p > 0 && best[p - 1][0] < s) {
        [best[p - 1], best[p]] = [best[p], best[p - 1]];
        p--;
      }
    }
    ids.push(best.map((b) => b[1]));
  }
  return ids;
}

function recall(got, exact) {
  let hit = 0;
  let total = 0;
  for (let q = 0; q < exact.length; q++) {
    const truth = new Set(exact[q]);
    for (const id of got[q].slice(0, K)) if (truth.has(Number(id))) hit++;
    total += exact[q].length;
  }
  return Number((hit / total).toFixed(4));
}

const rows = [];
function report(row) {
  rows.push(row);
  console.log(JSON.stringify(row));
}

await mg.init();
console.error(`generating ${N} x ${D} database and ${Q} queries ...`);
const db = unitRows(N, D, 1);
const queries = unitRows(Q, D, 2);
const setup = { name: 'setup', db: N, queries: Q, dim: D, k: K, cpu_queries: QC, adapter: mg.runtime().gpu.adapterInfo?.description ?? mg.runtime().gpu.adapterInfo?.device ?? '' };
console.log(JSON.stringify(setup));

// the exact reference first (it is the CPU baseline's own run)
let t = performance.now();
const exact = cpuSearch(db, queries, QC, K);
const cpuSeconds = (performance.now() - t) / 1000;
const cpuRow = { name: 'cpu-exact (JS loops)', queries_per_s: Number((QC / cpuSeconds).toFixed(2)), recall: 1, peak_rss_mib: peakRss(), timed_queries: QC };

// ours: the index keeps the database on the GPU (within its 1 GiB budget; streamed beyond)
{
  const rt = mg.runtime();
  rt.pool.releaseFree(); // so that the peak is this search's own
  t = performance.now();
  const index = new mg.RetrievalIndex(D);
  index.add(db, Array.from({ length: N }, (_, i) => i));
  await index.search(queries.subarray(0, D), K); // uploads the chunks, compiles the kernels
  const buildSeconds = (performance.now() - t) / 1000;
  t = performance.now();
  const hits = await index.search(queries, K);
  const seconds = (performance.now() - t) / 1000;
  report({
    name: 'gpu-exact (ours)', queries_per_s: Number((Q / seconds).toFixed(2)), recall: recall(hits.map((h) => Array.from(h.rows)), exact),
    peak_rss_mib: peakRss(), gpu_peak_mib: mib(rt.pool.getStats().peakBytesAllocated),
    timed_queries: Q, build_s: Number(buildSeconds.toFixed(2)),
  });
  index.dispose();
}
report(cpuRow);

// faiss IndexFlatIP (exact inner product), where faiss-node loads
if (flags['no-faiss']) report({ name: 'faiss IndexFlatIP', skipped: '--no-faiss' });
else {
  let faiss = null;
  try {
    faiss = createRequire(import.meta.url)('faiss-node');
  } catch (err) {
    report({ name: 'faiss IndexFlatIP', skipped: `faiss-node is not installed or does not load (${err.message.split('\n')[0]})` });
  }
  if (faiss) {
    t = performance.now();
    const index = new faiss.IndexFlatIP(D);
    const step = Math.max(1, Math.floor(2 ** 22 / D));
    for (let r = 0; r < N; r += step) index.add(Array.from(db.subarray(r * D, Math.min(N, r + step) * D)));
    const buildSeconds = (performance.now() - t) / 1000;
    const x = Array.from(queries);
    t = performance.now();
    const { labels } = index.search(x, K);
    const seconds = (performance.now() - t) / 1000;
    const got = Array.from({ length: Q }, (_, q) => labels.slice(q * K, (q + 1) * K));
    report({ name: 'faiss IndexFlatIP', queries_per_s: Number((Q / seconds).toFixed(2)), recall: recall(got, exact), peak_rss_mib: peakRss(), timed_queries: Q, build_s: Number(buildSeconds.toFixed(2)) });
  }
}

// HnswIndex (approximate): build = adding every vector to the graph (timed), then all queries
if (flags['no-hnsw']) report({ name: 'hnsw (ours, hnswlib-node)', skipped: '--no-hnsw' });
else {
  let index = null;
  try {
    index = await mg.HnswIndex.create(D, HNSW);
  } catch (err) {
    report({ name: 'hnsw (ours, hnswlib-node)', skipped: err.message.split('\n')[0] });
  }
  if (index) {
    t = performance.now();
    index.add(db, Array.from({ length: N }, (_, i) => i));
    const buildSeconds = (performance.now() - t) / 1000;
    t = performance.now();
    const hits = await index.search(queries, K);
    const seconds = (performance.now() - t) / 1000;
    report({
      name: `hnsw M${HNSW.m} efC${HNSW.efConstruction} efS${HNSW.efSearch}`, queries_per_s: Number((Q / seconds).toFixed(2)),
      recall: recall(hits.map((h) => Array.from(h.rows)), exact), peak_rss_mib: peakRss(), timed_queries: Q, build_s: Number(buildSeconds.toFixed(2)),
    });
  }
}

console.log(`\n${N} x ${D} database, ${Q} queries, top-${K}; recall@${K} against exact float64 search on ${QC} queries\n`);
console.log('method                       queries/s   recall@k   peak RSS MiB   GPU pool MiB   build s   note');
for (const r of rows) {
  if (r.skipped) {
    console.log(`${r.name.padEnd(29)}${'-'.padStart(9)}${'-'.padStart(11)}${'-'.padStart(15)}${'-'.padStart(15)}${'-'.padStart(10)}   skipped: ${r.skipped}`);
    continue;
  }
  const note = r.timed_queries !== Q ? `timed on ${r.timed_queries} queries` : '';
  console.log(`${r.name.padEnd(29)}${String(r.queries_per_s).padStart(9)}${String(r.recall).padStart(11)}${String(r.peak_rss_mib).padStart(15)}${String(r.gpu_peak_mib ?? '-').padStart(15)}${String(r.build_s ?? '-').padStart(10)}   ${note}`);
}
if (flags.json) writeJsonAtomic(flags.json, { setup, rows });
await mg.shutdown();
