/** Writes the training curves of an experiment as SVG pictures. */
import { lineChartSvg, type Series } from './plot.js';
import { joinPath, nodeFileStore, type FileStore } from '../../io/index.js';
import type { EpochRecord, StepRecord } from './trainer.js';

function series(name: string, history: EpochRecord[], pick: (r: EpochRecord) => number | undefined): Series {
  return { name, points: history.map((r) => [r.epoch, pick(r)] as [number, number | undefined]).filter((p): p is [number, number] => p[1] !== undefined && Number.isFinite(p[1])) };
}

function stepSeries(name: string, steps: StepRecord[], pick: (r: StepRecord) => number): Series {
  return { name, points: steps.map((r) => [r.epoch, pick(r)] as [number, number]).filter(([, y]) => Number.isFinite(y)) };
}

/**
 * `loss.svg`, `accuracy.svg`, `beta.svg` and `lr.svg` in the experiment folder: training curves
 * per log window (x = fractional epoch), validation per epoch.
 */
export async function writeCurves(expdir: string, history: EpochRecord[], steps: StepRecord[], files: FileStore = nodeFileStore): Promise<void> {
  const loss = lineChartSvg('Losses', 'epoch', [
    stepSeries('train loss', steps, (r) => r.loss),
    stepSeries('train CE', steps, (r) => r.cross_entropy),
    stepSeries('train margin', steps, (r) => r.margin),
    series('val CE', history, (r) => r.val?.cross_entropy),
  ]);
  const accuracy = lineChartSvg('Accuracy (%)', 'epoch', [
    stepSeries('train top-1', steps, (r) => r.top1),
    series('val top-1', history, (r) => r.val?.top1),
    series('val top-5', history, (r) => r.val?.top5),
  ]);
  const beta = lineChartSvg('Margin beta', 'epoch', [stepSeries('beta', steps, (r) => r.beta)]);
  const lr = lineChartSvg('Learning rate', 'epoch', [stepSeries('lr', steps, (r) => r.lr)]);
  await files.writeFileAtomic(joinPath(expdir, 'loss.svg'), loss);
  await files.writeFileAtomic(joinPath(expdir, 'accuracy.svg'), accuracy);
  await files.writeFileAtomic(joinPath(expdir, 'beta.svg'), beta);
  await files.writeFileAtomic(joinPath(expdir, 'lr.svg'), lr);
}
