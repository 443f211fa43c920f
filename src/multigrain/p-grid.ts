/**
 * p* by cross-validation, the alternative to p-finetuning that the original README names: the
 * classification accuracy of a held-out labelled set at the test scale for each p of a grid,
 * and the p with the best top-1. GeM's p changes only the pooling, so the trunk runs once per
 * batch and its feature maps are pooled at every p of the grid (the cost of one evaluation,
 * not one per p).
 */
import { tensor, concat, type Shape } from '../engine/index.js';
import type { DataLoader } from '../data/index.js';
import type { MultiGrain } from './model.js';
import { sumOverEvaluation } from './training/evaluation-sums.js';
import { classificationSums } from './training/metrics.js';

/** The most values a grid may hold: each p costs a pooling and a classifier pass per batch. */
export const P_GRID_MAX = 200;

/** Accuracy of the held-out set at one p. */
export interface PGridPoint {
  p: number;
  /** Top-1 accuracy, percent. */
  top1: number;
  /** Top-5 accuracy, percent. */
  top5: number;
  /** Mean cross-entropy. */
  crossEntropy: number;
}

/** A number of a --p-grid item, or an error naming the flag and the text. */
function gridNumber(text: string, item: string, flag: string): number {
  const v = text.trim() === '' ? NaN : Number(text);
  if (!Number.isFinite(v)) throw new Error(`${flag}: '${item}' is not a number or a range start:stop:step (e.g. 1,1.5,2 or 1:5:0.5)`);
  return v;
}

/**
 * Parses a p grid: comma-separated values and inclusive ranges `start:stop:step`
 * (`1:5:0.5` = 1, 1.5, ..., 5), mixed freely; returns the distinct values in increasing order.
 * Refuses, naming `flag`, a value that is no number, p <= 0 (GeM needs p > 0), a range whose
 * step is not positive or whose stop is below its start, and grids of more than P_GRID_MAX values.
 */
export function parsePGrid(text: string, flag = '--p-grid'): number[] {
  const values: number[] = [];
  for (const item of text.split(',')) {
    const parts = item.split(':');
    if (parts.length === 1) {
      values.push(gridNumber(parts[0]!, item, flag));
      continue;
    }
    if (parts.length !== 3) throw new Error(`${flag}: '${item}' is no range: write start:stop:step (e.g. 1:5:0.5)`);
    const [start, stop, step] = parts.map((t) => gridNumber(t, item, flag)) as [number, number, number];
    if (!(step > 0)) throw new Error(`${flag}: '${item}': the step must be positive, got ${step}`);
    if (stop < start) throw new Error(`${flag}: '${item}': the stop ${stop} is below the start ${start}`);
    const count = Math.floor((stop - start) / step + 1e-9) + 1;
    if (count > P_GRID_MAX) throw new Error(`${flag}: '${item}' has ${count} values, more than ${P_GRID_MAX}`);
    // rounded so that 1:2:0.1 gives 1.3, not 1.3000000000000003
    for (let i = 0; i < count; i++) values.push(Number((start + i * step).toPrecision(12)));
  }
  const bad = values.find((p) => !(p > 0));
  if (bad !== undefined) throw new Error(`${flag}: p = ${bad}: GeM needs p > 0`);
  const grid = [...new Set(values)].sort((a, b) => a - b);
  if (grid.length > P_GRID_MAX) throw new Error(`${flag}: ${grid.length} values, more than ${P_GRID_MAX}`);
  return grid;
}

export interface CrossValidatePOptions {
  /** The exponents to evaluate (e.g. from `parsePGrid`). */
  grid: readonly number[];
  /** Images per forward pass of the trunk. */
  batchSize: number;
  /** Dataset indices of the held-out images (default: all of the loader's dataset). */
  indices?: ArrayLike<number>;
  /** Progress bar label; none when omitted. */
  progress?: string;
}

/**
 * Top-1, top-5 and mean cross-entropy of the loader's images (their transform sets the test
 * scale) for each p of the grid, in grid order. The model is left unchanged (its own p is not
 * touched) and in eval mode.
 */
export async function crossValidateP(model: MultiGrain, loader: DataLoader, options: CrossValidatePOptions): Promise<PGridPoint[]> {
  const { grid, batchSize } = options;
  if (grid.length === 0) throw new Error('crossValidateP: the p grid is empty');
  const total = options.indices ? options.indices.length : loader.dataset.length;
  if (total === 0) throw new Error('crossValidateP: no held-out images');
  model.eval();
  const ps = grid.map((p) => tensor([p], [1]));
  let result: { sums: number[]; images: number } | null;
  try {
    // per batch and p: [CE sum, top-1 hits, top-5 hits]
    result = await sumOverEvaluation(loader, { batchSize, ...(options.indices ? { indices: options.indices } : {}) }, (batch) => {
      const bad = batch.labels.find((l) => !(l >= 0 && l < model.options.numClasses));
      if (bad !== undefined) throw new Error(`crossValidateP: label ${bad} is not a class of the model (0..${model.options.numClasses - 1}); the p grid needs a labelled set`);
      const labels = tensor(batch.labels, [batch.labels.length], 'i32');
      const f = model.features.features(tensor(batch.images, batch.shape as Shape));
      return concat(ps.map((p) => classificationSums(model.head(f, p).logits, labels)), 0);
    }, options.progress ? { label: options.progress, total } : undefined);
  } finally {
    ps.forEach((t) => t.dispose());
  }
  if (!result) throw new Error('crossValidateP: the loader gave no images (all unreadable?)');
  const { sums, images: n } = result;
  return grid.map((p, i) => ({ p, crossEntropy: sums[3 * i]! / n, top1: (100 * sums[3 * i + 1]!) / n, top5: (100 * sums[3 * i + 2]!) / n }));
}

/**
 * p*: the point of highest top-1; among equal top-1s the p closest to `trainedP` (the model's
 * p before the grid: a tie gives no reason to move), then the smaller p. `tied`: the p values
 * that shared the best top-1 (one value when there was no tie).
 */
export function bestP(points: readonly PGridPoint[], trainedP: number): { best: PGridPoint; tied: number[] } {
  if (points.length === 0) throw new Error('bestP: no points');
  const top = Math.max(...points.map((r) => r.top1));
  const tiedPoints = points.filter((r) => r.top1 === top);
  const distance = (r: PGridPoint): number => Math.abs(r.p - trainedP);
  const best = tiedPoints.reduce((a, b) => (distance(b) < distance(a) || (distance(b) === distance(a) && b.p < a.p) ? b : a));
  return { best, tied: tiedPoints.map((r) => r.p) };
}

/** The table printed and recorded by `finetune-p --p-grid`: one line per p, p* marked. */
export function pGridTable(points: readonly PGridPoint[], best: number): string {
  const lines = ['     p   top-1   top-5  cross-entropy'];
  for (const r of points) {
    lines.push(`${r.p.toFixed(3).padStart(6)} ${r.top1.toFixed(2).padStart(6)}% ${r.top5.toFixed(2).padStart(6)}% ${r.crossEntropy.toFixed(4).padStart(14)}${r.p === best ? '  <- p*' : ''}`);
  }
  return lines.join('\n');
}
