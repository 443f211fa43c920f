/** Writes the training curves of an experiment as SVG pictures. */
import { lineChartSvg, type Series } from './plot.js';
import { writeFileAtomic } from '../../io/index.js';
import type { EpochRecord } from './trainer.js';

function series(name: string, history: EpochRecord[], pick: (r: EpochRecord) => number | undefined): Series {
  return { name, points: history.map((r) => [r.epoch, pick(r)] as [number, number | undefined]).filter((p): p is [number, number] => p[1] !== undefined && Number.isFinite(p[1])) };
}

/** `loss.svg`, `accuracy.svg` and `beta.svg` in the experiment folder. */
export async function writeCurves(expdir: string, history: EpochRecord[]): Promise<void> {
  const { join } = await import('node:path');
  const loss = lineChartSvg('Losses', 'epoch', [
    series('train loss', history, (r) => r.train?.loss),
    series('train CE', history, (r) => r.train?.cross_entropy),
    series('train margin', history, (r) => r.train?.margin),
    series('val CE', history, (r) => r.val?.cross_entropy),
  ]);
  const accuracy = lineChartSvg('Accuracy (%)', 'epoch', [
    series('train top-1', history, (r) => r.train?.top1),
    series('val top-1', history, (r) => r.val?.top1),
    series('val top-5', history, (r) => r.val?.top5),
  ]);
  const beta = lineChartSvg('Margin beta', 'epoch', [series('beta', history, (r) => r.train?.beta)]);
  await writeFileAtomic(join(expdir, 'loss.svg'), loss);
  await writeFileAtomic(join(expdir, 'accuracy.svg'), accuracy);
  await writeFileAtomic(join(expdir, 'beta.svg'), beta);
}
