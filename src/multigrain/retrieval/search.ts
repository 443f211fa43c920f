/**
 * Brute-force nearest-neighbour search on the GPU: query-database similarities are dot
 * products of the (normalized) embeddings, one matrix product per chunk of queries, read back
 * a chunk at a time; the CPU then places each query's relevant items in its ranking.
 */
import { tensor, matmul, noGrad, type Tensor } from '../../engine/index.js';
import type { RetrievalTruth } from '../../data/index.js';
import type { Embeddings } from './embeddings.js';

export interface SearchOptions {
  /** Also return each query's best `topK` database positions (default 0). */
  topK?: number;
  /** Upper bound on the similarity values read back at once (default 16 M floats, 64 MB). */
  maxScoresPerChunk?: number;
  /** Database columns per GPU buffer (default 8192: 67 MB of 2049-d vectors, under WebGPU's 128 MB binding limit). */
  databaseBlock?: number;
}

/** Per query: the ranks of its positives, and its best database positions (with `topK`). */
export interface SearchResult {
  ranks: Int32Array[];
  top: Int32Array[];
}

/**
 * For each query, the 0-based ranks of its positives in the database ranked by decreasing
 * similarity, with the `ignore` entries removed; ties are broken by database position.
 * `features` row i is the embedding of dataset item i; `queries` / `database` are dataset indices;
 * `truth[q]` refers to positions in `database`.
 */
export async function rankPositives(
  features: Embeddings, queries: ArrayLike<number>, database: ArrayLike<number>, truth: readonly RetrievalTruth[], options: SearchOptions = {},
): Promise<SearchResult> {
  if (truth.length !== queries.length) throw new Error(`rankPositives: ${truth.length} ground-truth entries for ${queries.length} queries`);
  const nDb = database.length;
  const blockCols = options.databaseBlock ?? 8192;
  const blocks: Tensor[] = [];
  for (let c0 = 0; c0 < nDb; c0 += blockCols) blocks.push(transposedRows(features, database, c0, Math.min(nDb, c0 + blockCols)));
  const chunk = Math.max(1, Math.floor((options.maxScoresPerChunk ?? 16 * 2 ** 20) / Math.max(nDb, 1)));
  const ranks: Int32Array[] = [];
  const top: Int32Array[] = [];
  try {
    for (let q0 = 0; q0 < queries.length; q0 += chunk) {
      const q1 = Math.min(queries.length, q0 + chunk);
      const scores = await similarities(features, queries, q0, q1, blocks, nDb, blockCols);
      for (let q = q0; q < q1; q++) {
        const row = scores.subarray((q - q0) * nDb, (q - q0 + 1) * nDb);
        ranks.push(ranksInRow(row, truth[q]!));
        if (options.topK) top.push(topInRow(row, truth[q]!.ignore, options.topK));
      }
    }
  } finally {
    blocks.forEach((b) => b.dispose());
  }
  return { ranks, top };
}

/** [dim, end - start] GPU tensor: columns = the features of database entries start..end-1. */
function transposedRows(features: Embeddings, database: ArrayLike<number>, start: number, end: number): Tensor {
  const { dim, data } = features;
  const cols = end - start;
  const t = new Float32Array(dim * cols);
  for (let c = 0; c < cols; c++) {
    const row = checkedRow(features, database[start + c]!);
    for (let i = 0; i < dim; i++) t[i * cols + c] = data[row + i]!;
  }
  return tensor(t, [dim, cols]);
}

function checkedRow(features: Embeddings, index: number): number {
  if (!(index >= 0 && index < features.rows)) throw new Error(`rankPositives: dataset index ${index} has no embedding (${features.rows} rows)`);
  return index * features.dim;
}

/** Host [q1 - q0, nDb] scores of queries q0..q1-1 against every database block. */
async function similarities(features: Embeddings, queries: ArrayLike<number>, q0: number, q1: number, blocks: Tensor[], nDb: number, blockCols: number): Promise<Float32Array> {
  const { dim, data } = features;
  const nq = q1 - q0;
  const q = new Float32Array(nq * dim);
  for (let r = 0; r < nq; r++) q.set(data.subarray(checkedRow(features, queries[q0 + r]!), checkedRow(features, queries[q0 + r]!) + dim), r * dim);
  const qt = tensor(q, [nq, dim]);
  const out = new Float32Array(nq * nDb);
  try {
    for (let b = 0; b < blocks.length; b++) {
      const s = noGrad(() => matmul(qt, blocks[b]!));
      const values = (await s.toArray()) as Float32Array;
      s.dispose();
      const cols = blocks[b]!.shape[1]!;
      for (let r = 0; r < nq; r++) out.set(values.subarray(r * cols, (r + 1) * cols), r * nDb + b * blockCols);
    }
  } finally {
    qt.dispose();
  }
  return out;
}

/** Ranks of the positives in one query's score row (descending score, ties by position), ignored entries skipped. */
export function ranksInRow(scores: Float32Array, truth: RetrievalTruth): Int32Array {
  const ignored = new Set(truth.ignore);
  const out = new Int32Array(truth.positives.length);
  truth.positives.forEach((p, k) => {
    const sp = scores[p]!;
    let rank = 0;
    for (let j = 0; j < scores.length; j++) {
      const sj = scores[j]!;
      if ((sj > sp || (sj === sp && j < p)) && !ignored.has(j)) rank++;
    }
    out[k] = rank;
  });
  return out;
}

/** The `k` best positions of a score row (same order as the ranking), ignored entries skipped. */
export function topInRow(scores: Float32Array, ignore: readonly number[], k: number): Int32Array {
  const ignored = new Set(ignore);
  const best: number[] = [];
  const before = (a: number, b: number): boolean => scores[a]! > scores[b]! || (scores[a] === scores[b] && a < b);
  for (let j = 0; j < scores.length; j++) {
    if (ignored.has(j) || (best.length === k && !before(j, best[k - 1]!))) continue;
    let i = Math.min(best.length, k - 1);
    best[i] = j;
    while (i > 0 && before(j, best[i - 1]!)) {
      best[i] = best[i - 1]!;
      best[i - 1] = j;
      i--;
    }
  }
  return Int32Array.from(best);
}
