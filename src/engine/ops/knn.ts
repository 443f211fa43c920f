/**
 * Exact k-nearest-neighbour search by inner product, on the GPU: per database chunk, one
 * matrix product (queries x chunkᵀ) and one top-k merge (kernels/search/topk.ts) into each
 * query's running best k. Only the final [Q, k] scores and ids exist for the caller to read
 * back; the score blocks stay on the GPU and are released chunk by chunk, so memory is bounded
 * by one chunk whatever the database size. Not differentiable.
 */
import { type Tensor, shapeString } from '../tensor.js';
import { noGrad } from '../tape.js';
import { checkFloat, checkLive } from '../checks.js';
import { matmulRaw } from '../kernels/matmul/matmul.js';
import { topkMerge, topkSlots, topkState, TOPK_MAX } from '../kernels/search/topk.js';
import { slice } from './shape.js';

export { TOPK_MAX as KNN_MAX_K } from '../kernels/search/topk.js';

/** Id of the entries past the end of a database smaller than k (their score is -Infinity). */
export const KNN_NO_ID = 2147483647;

/**
 * A chunk of database rows [n, D]: a tensor the caller keeps (a resident database), or a
 * function that uploads one; the latter's tensor is disposed as soon as it has been searched.
 */
export type DatabaseChunk = Tensor | (() => Tensor);

export interface KnnResult {
  /** [Q, k] inner products, best first. */
  scores: Tensor;
  /** [Q, k] i32 database rows (counted across chunks, in the order given), ties by lower row. */
  ids: Tensor;
}

/**
 * The k database rows with the largest inner product with each query (rows of `queries`
 * [Q, D]), best first, ties broken by lower row. Chunks are searched in order; row ids count
 * across them. With fewer than k rows in all, the missing entries have id KNN_NO_ID and score
 * -Infinity. Scores must be finite (NaN has no rank). k at most KNN_MAX_K (1024).
 */
export function knnSearch(queries: Tensor, chunks: Iterable<DatabaseChunk>, k: number): KnnResult {
  checkFloat('knnSearch', queries);
  if (queries.rank !== 2) throw new Error(`knnSearch: queries must be [Q, D], got ${shapeString(queries.shape)}`);
  if (!Number.isInteger(k) || k < 1 || k > TOPK_MAX) throw new Error(`knnSearch: k must be an integer from 1 to ${TOPK_MAX}, got ${k}`);
  const [rows, dim] = queries.shape as [number, number];
  const state = topkState(rows, topkSlots(k));
  let offset = 0;
  try {
    for (const chunk of chunks) {
      const owned = typeof chunk === 'function';
      const db = owned ? chunk() : chunk;
      try {
        checkLive('knnSearch', db);
        if (db.rank !== 2 || db.shape[1] !== dim) {
          throw new Error(`knnSearch: database chunk ${shapeString(db.shape)} does not fit queries ${shapeString(queries.shape)} (expected [n, ${dim}])`);
        }
        const n = db.shape[0]!;
        if (offset + n > KNN_NO_ID) throw new Error(`knnSearch: more than ${KNN_NO_ID} database rows`);
        if (n === 0) continue;
        const scores = matmulRaw(queries, db, false, true);
        topkMerge(scores, state, offset, offset === 0);
        scores.dispose();
        offset += n;
      } finally {
        if (owned) db.dispose();
      }
    }
    if (offset === 0) throw new Error('knnSearch: the database has no rows');
    if (state.scores.shape[1] === k) return state;
    const out = noGrad(() => ({ scores: slice(state.scores, 1, 0, k), ids: slice(state.ids, 1, 0, k) }));
    state.scores.dispose();
    state.ids.dispose();
    return out;
  } catch (err) {
    if (!state.scores.disposed) state.scores.dispose();
    if (!state.ids.disposed) state.ids.dispose();
    throw err;
  }
}
