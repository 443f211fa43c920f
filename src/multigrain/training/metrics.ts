/**
 * Training metrics accumulated on the GPU (one small vector per step, added up in place),
 * read back every N steps, never every step. The same readback carries the NaN guard: the
 * first step with a non-finite loss, and how many NaN / infinite values each watched tensor
 * (the model's weights) holds at the time of the read.
 */
import { type Tensor, concat, add, keep, tensor, tidy, zeros, firstNonFiniteStep, nonFiniteCounts, noGrad, reshape, crossEntropy, mulScalar, topkCorrect } from '../../engine/index.js';

/** Names of the accumulated values, in order. */
/**
 * One evaluation batch's [cross-entropy sum, top-1 hits, top-5 hits], on the GPU: evaluations add
 * these up over the batches and read them back once at the end.
 */
export function classificationSums(logits: Tensor, labels: Tensor): Tensor {
  return concat([reshape(mulScalar(crossEntropy(logits, labels), labels.shape[0]!), [1]), topkCorrect(logits, labels, [1, 5])], 0);
}

export const STEP_METRICS = ['cross_entropy', 'margin', 'loss', 'beta', 'top1', 'top5', 'samples'] as const;
export type StepMetric = (typeof STEP_METRICS)[number];

/** A watched tensor holding NaN or infinite values at a read. */
export interface NonFiniteTensor {
  name: string;
  count: number;
}

export class GpuMetrics {
  private sum: Tensor | null = null;
  private readonly watch: ReadonlyArray<readonly [string, Tensor]>;
  private steps = 0;
  /** Step number (global) of the first non-finite loss, or -1; kept on the GPU. */
  private firstBad: Tensor = keep(tensor([-1], [1]));

  /**
   * @param watch named tensors (f32) checked for NaN and infinite values at each `read()`: a
   * NaN weight can hide behind a finite loss (a ReLU may map NaN to 0), so the loss guard
   * alone does not see it. The check runs on the GPU, one small kernel per tensor per read.
   */
  constructor(watch: Iterable<readonly [string, Tensor]> = []) {
    this.watch = [...watch].filter(([, t]) => t.dtype === 'f32');
  }

  /**
   * Adds one step: scalars ce, margin, loss, beta (averaged per step) and top-1/top-5 hit
   * counts and the sample count (summed).
   */
  add(values: { ce: Tensor; margin: Tensor; loss: Tensor; beta: Tensor; hits: Tensor; samples: number }, globalStep: number): void {
    noGrad(() => {
      const v = concat([values.ce, values.margin, values.loss, values.beta, values.hits, tensor([values.samples], [1])].map((t) => reshape(t, [t.size])), 0);
      const next = this.sum ? add(this.sum, v) : v;
      if (this.sum) {
        this.sum.dispose();
        v.dispose();
      }
      this.sum = keep(next);
      // remember the first step whose loss is NaN or infinite
      const bad = firstNonFiniteStep(this.firstBad, reshape(values.loss, [1]), globalStep);
      this.firstBad.dispose();
      this.firstBad = keep(bad);
    });
    this.steps++;
  }

  /**
   * Reads and resets: per-step means (losses, beta) and accuracies in percent, the first step
   * with a non-finite loss (-1: none) and the watched tensors holding non-finite values now.
   * One readback for all of it.
   */
  async read(): Promise<{ metrics: Record<StepMetric, number>; steps: number; firstBadStep: number; nonFinite: NonFiniteTensor[] }> {
    const steps = this.steps;
    const k = STEP_METRICS.length;
    const all = tidy(() => noGrad(() => concat([this.sum ?? zeros([k]), this.firstBad, nonFiniteCounts(this.watch.map(([, t]) => t))], 0)));
    const read = Array.from(await all.toArray());
    all.dispose();
    const values = read.slice(0, k);
    const firstBadStep = read[k]!;
    const nonFinite = this.watch.map(([name], i) => ({ name, count: read[k + 1 + i]! })).filter((w) => w.count > 0);
    this.sum?.dispose();
    this.sum = null;
    this.steps = 0;
    const n = Math.max(steps, 1);
    const samples = Math.max(values[6], 1);
    return {
      metrics: {
        cross_entropy: values[0] / n,
        margin: values[1] / n,
        loss: values[2] / n,
        beta: values[3] / n,
        top1: (100 * values[4]) / samples,
        top5: (100 * values[5]) / samples,
        samples: values[6],
      },
      steps,
      firstBadStep,
      nonFinite,
    };
  }

  dispose(): void {
    this.sum?.dispose();
    this.firstBad.dispose();
  }
}
