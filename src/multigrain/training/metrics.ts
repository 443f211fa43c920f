/**
 * Training metrics accumulated on the GPU (one small vector per step, added up in place),
 * read back every N steps, never every step.
 */
import { type Tensor, concat, add, keep, tensor, firstNonFiniteStep, noGrad, reshape } from '../../engine/index.js';

/** Names of the accumulated values, in order. */
export const STEP_METRICS = ['cross_entropy', 'margin', 'loss', 'beta', 'top1', 'top5', 'samples'] as const;
export type StepMetric = (typeof STEP_METRICS)[number];

export class GpuMetrics {
  private sum: Tensor | null = null;
  private steps = 0;
  /** Step number (global) of the first non-finite loss, or -1; kept on the GPU. */
  private firstBad: Tensor = keep(tensor([-1], [1]));

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

  /** Reads and resets: per-step means (losses, beta) and accuracies in percent. */
  async read(): Promise<{ metrics: Record<StepMetric, number>; steps: number; firstBadStep: number }> {
    const steps = this.steps;
    const values = this.sum ? Array.from(await this.sum.toArray()) : new Array<number>(STEP_METRICS.length).fill(0);
    const firstBadStep = (await this.firstBad.toArray())[0];
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
    };
  }

  dispose(): void {
    this.sum?.dispose();
    this.firstBad.dispose();
  }
}
