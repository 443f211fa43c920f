/** Learning-rate schedules of the original programs. */

/**
 * Step schedule: the factor applied at `epoch` (0-based) is the product of the factors of
 * every drop epoch d with epoch > d... exactly as the original (`epoch > drop`).
 */
export function stepLrFactor(epoch: number, dropEpochs: readonly number[], dropFactors: readonly number[]): number {
  if (dropEpochs.length !== dropFactors.length) {
    throw new Error(`--lr-drops-epochs has ${dropEpochs.length} values but --lr-drops-factors has ${dropFactors.length}`);
  }
  let factor = 1;
  dropEpochs.forEach((d, i) => {
    if (epoch > d) factor *= dropFactors[i];
  });
  return factor;
}

/**
 * Gradual warmup: the factor on the scheduled lr at batch `batch` (0-based, counted over the
 * whole run) of a run with `batchesPerEpoch` batches per epoch, rising linearly to 1 over
 * `warmupEpochs` epochs: (batch + 1) / (warmupEpochs x batchesPerEpoch), then 1.
 */
export function warmupFactor(batch: number, batchesPerEpoch: number, warmupEpochs: number): number {
  const total = warmupEpochs * batchesPerEpoch;
  return total <= 0 ? 1 : Math.min(1, (batch + 1) / total);
}

/** Polynomial decay of p-finetuning: lr * (1 - i / n) ^ power. */
export function polyLr(base: number, iteration: number, total: number, power: number): number {
  return base * Math.pow(Math.max(0, 1 - iteration / Math.max(total, 1)), power);
}

/** The linear scaling rule (Goyal et al. 2017): lr is given for 512 images per step. */
export function scaledLr(lrAt512: number, batchSize: number): number {
  return (lrAt512 * batchSize) / 512;
}

/**
 * The base lr of a run: --learning-rate as given (--lr-scaling none, the original's train.py), or
 * scaled linearly to the images of one optimizer step, batch x accumulated batches (linear).
 */
export function baseLearningRate(learningRate: number, scaling: 'none' | 'linear', imagesPerStep: number): number {
  return scaling === 'linear' ? scaledLr(learningRate, imagesPerStep) : learningRate;
}
