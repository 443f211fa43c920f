/**
 * Gradient accumulation as the original's train.py does it (`training_step`): the gradients of
 * `every` consecutive batches are summed (each batch's loss is back-propagated as it is, not
 * divided by the count), then one optimizer step. The count restarts with every epoch
 * (train.py sets `batches_accumulated = 0` before each epoch's loop), so the batches that do
 * not fill a step at an epoch's end are dropped by the next step's `zero_grad` (--partial-accum
 * drop), or make one smaller step at the epoch's end (--partial-accum step, this engine's
 * earlier behaviour). No gradient waits across epochs, so a checkpoint never needs one.
 */

/** The optimizer calls the accumulation makes. */
export interface Stepper {
  step(): void;
  zeroGrad(): void;
}

export type PartialAccumulation = 'drop' | 'step';

export class GradientAccumulation {
  /** Batches whose gradients wait for the next step. */
  private pending = 0;

  constructor(
    private readonly optimizer: Stepper,
    private readonly every: number,
    private readonly partial: PartialAccumulation,
  ) {
    if (!Number.isInteger(every) || every < 1) throw new Error(`--gradient-accum must be a positive integer, got ${every}`);
  }

  /** Call after a batch's backward: steps (and zeroes the gradients) once `every` batches are summed. */
  addBatch(): void {
    this.pending++;
    if (this.pending < this.every) return;
    this.optimizer.step();
    this.optimizer.zeroGrad();
    this.pending = 0;
  }

  /** Call at an epoch's end: the gradients of a partial accumulation make a step or are dropped. */
  endEpoch(): void {
    if (this.pending === 0) return;
    if (this.partial === 'step') this.optimizer.step();
    this.optimizer.zeroGrad();
    this.pending = 0;
  }
}
