/** How `train` splits a batch for the margin loss's triplet sampling (--sampling-replicas, --global-sampling). */
import type { TrainOptions } from './options.js';

/** Images per replica that the default choice aims at: the original's 512 images on 8 GPUs. */
export const IMAGES_PER_REPLICA = 64;

/** The replica count the sampling uses, and the reason, for the log line at the start of a run. */
export interface SamplingChoice {
  replicas: number;
  reason: string;
}

/**
 * The replicas N of the triplet sampling: 1 (the whole batch) with --global-sampling or with
 * --repeated-augmentations 1 (the original forces --global-sampling there: no margin loss is
 * computed), the given --sampling-replicas, or by default 8 at batch 512 (the original on 8
 * GPUs) and otherwise ceil(batch / 64), so that a slice holds at most 64 images.
 */
export function samplingReplicas(o: Pick<TrainOptions, 'batchSize' | 'samplingReplicas' | 'globalSampling' | 'repeatedAugmentations'>): SamplingChoice {
  if (o.repeatedAugmentations === 1) return { replicas: 1, reason: 'global: --repeated-augmentations 1 has no margin loss (the original forces --global-sampling)' };
  if (o.globalSampling) return { replicas: 1, reason: 'global (--global-sampling)' };
  if (o.samplingReplicas > 0) return { replicas: o.samplingReplicas, reason: `--sampling-replicas ${o.samplingReplicas}` };
  const replicas = Math.max(1, Math.ceil(o.batchSize / IMAGES_PER_REPLICA));
  return { replicas, reason: `default for --batch-size ${o.batchSize}: slices of at most ${IMAGES_PER_REPLICA} images (batch 512: 8, the original's 8 GPUs)` };
}

/** The log line naming the sampling's split of the batch. */
export function samplingLine(choice: SamplingChoice, batchSize: number): string {
  if (choice.replicas === 1) return `triplet sampling over the whole batch of ${batchSize} (${choice.reason})`;
  const slice = Math.ceil(batchSize / choice.replicas);
  return `triplet sampling per replica: ${choice.replicas} slices of ${slice} images of the batch of ${batchSize} (${choice.reason})`;
}
