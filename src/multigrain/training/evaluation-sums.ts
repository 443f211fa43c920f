/**
 * The shared loop of the classification evaluations (validate, the p grid): a row of sums per
 * evaluation batch, added up on the GPU and read back once at the end.
 */
import { add, keep, noGrad, tidy, type Tensor } from '../../engine/index.js';
import type { DataLoader, EvaluationBatchOptions, HostBatch } from '../../data/index.js';
import { ProgressBar } from './progress.js';

/**
 * Runs `row` on each evaluation batch of `loader` (inside a tidy, without autograd) and adds the
 * rows up; the sums and the number of images, or null when the loader gave no batch.
 * `progress`: a bar's label and its total of images.
 */
export async function sumOverEvaluation(
  loader: DataLoader, options: EvaluationBatchOptions, row: (batch: HostBatch) => Tensor, progress?: { label: string; total: number },
): Promise<{ sums: number[]; images: number } | null> {
  let totals: Tensor | null = null;
  let images = 0;
  const bar = progress ? new ProgressBar(progress.label, progress.total, 'img') : null;
  for await (const batch of loader.evaluation(options)) {
    const next: Tensor = tidy(() => noGrad(() => {
      const r = row(batch);
      return totals ? add(totals, r) : r;
    }));
    totals?.dispose();
    totals = keep(next);
    images += batch.labels.length;
    bar?.update(images);
  }
  bar?.finish();
  if (!totals) return null;
  const sums = Array.from(await (totals as Tensor).toArray());
  (totals as Tensor).dispose();
  return { sums, images };
}
