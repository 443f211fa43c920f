/**
 * Retrieval scores from the ranks of the relevant items: average precision by the trapezoid
 * rule over the precision-recall curve (the INRIA Holidays evaluation's `score_ap_from_ranks_1`),
 * and UKBench's N-S score.
 */

/**
 * Average precision of one query from the 0-based ranks of its `positives` relevant items in
 * the ranked list (ignored items already removed). Missing positives (not ranked) count as
 * never found. Between consecutive hits the precision is interpolated linearly (trapezoid).
 */
export function averagePrecision(ranks: ArrayLike<number>, positives: number): number {
  if (positives <= 0) throw new Error(`averagePrecision: a query needs at least one relevant item, got ${positives}`);
  const sorted = Float64Array.from(ranks).sort();
  const recallStep = 1 / positives;
  let ap = 0;
  sorted.forEach((rank, found) => {
    const precisionBefore = rank === 0 ? 1 : found / rank;
    const precisionAfter = (found + 1) / (rank + 1);
    ap += ((precisionBefore + precisionAfter) * recallStep) / 2;
  });
  return ap;
}

/** Number of the relevant items among the first `k` results (UKBench: k = 4, a score out of 4). */
export function hitsInTop(ranks: ArrayLike<number>, k: number): number {
  let hits = 0;
  for (let i = 0; i < ranks.length; i++) if (ranks[i]! < k) hits++;
  return hits;
}

/** Mean of a list (NaN when empty). */
export function mean(values: readonly number[]): number {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN;
}
