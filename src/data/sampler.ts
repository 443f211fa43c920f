/**
 * Repeated-augmentation (RA) batch sampler, the original `RASampler`:
 * an endless stream that walks a fresh random permutation of the dataset and emits each
 * index `repetitions` (m) times in a row; one epoch is the first `int(N * lengthFactor)`
 * items of a fresh stream, cut into consecutive batches (a repetition group may straddle
 * two batches when the batch size is not a multiple of m, as in the original). The last
 * partial batch is kept unless `dropLast`, or unless it is smaller than `minBatchSize`
 * (training sets 2: batchnorm cannot normalize a batch of one image).
 *
 * Seeded: the stream of epoch e depends only on (seed, e), so resuming at epoch e (and at
 * batch k of it) reproduces the uninterrupted run. `getState`/`setState` save the cursor.
 */
import { DataRng } from '../util/rng.js';

/** Options of {@link RASampler}. */
export interface RASamplerOptions {
  /** Batch size B (samples, repetitions counted). */
  batchSize: number;
  /** m: consecutive copies of each index (1 = plain shuffling). Default 1. */
  repetitions?: number;
  /** Samples per epoch = int(N * lengthFactor) (counted with repetitions). Default 1.0; the
   * MultiGrain training default is 2.0. */
  lengthFactor?: number;
  /** Drop the last incomplete batch. Default false. */
  dropLast?: boolean;
  /**
   * A last incomplete batch with fewer samples than this is dropped (the others are full).
   * Default 1 (keep it). Training uses 2: batchnorm in training mode needs more than one
   * value per channel, and a 1-image batch whose last feature map is 1x1 has only one.
   */
  minBatchSize?: number;
  /** Shuffle (a fresh permutation each pass); false walks 0..N-1 in order. Default true. */
  shuffle?: boolean;
  /** Seed of the permutations. Default 0. */
  seed?: number;
}

/** Resumable cursor of a {@link RASampler}. */
export interface RASamplerState {
  seed: number;
  epoch: number;
  /** Index of the next batch to emit inside `epoch`. */
  batch: number;
}

/** One batch emitted by {@link RASampler.next}. */
export interface SamplerBatch {
  epoch: number;
  /** Batch number inside the epoch. */
  batch: number;
  /** Position of the first sample inside the epoch's stream. */
  start: number;
  /** Dataset indices of the samples. */
  indices: Int32Array;
}

/** Repeated-augmentation batch sampler. */
export class RASampler {
  readonly datasetLength: number;
  readonly batchSize: number;
  readonly repetitions: number;
  readonly lengthFactor: number;
  readonly dropLast: boolean;
  readonly minBatchSize: number;
  readonly shuffle: boolean;
  readonly seed: number;
  /** Samples per epoch: int(N * lengthFactor). */
  readonly epochLength: number;
  private cursor: { epoch: number; batch: number } = { epoch: 0, batch: 0 };
  private cached: { epoch: number; indices: Int32Array } | null = null;

  constructor(datasetLength: number, options: RASamplerOptions) {
    const { batchSize, repetitions = 1, lengthFactor = 1.0, dropLast = false, minBatchSize = 1, shuffle = true, seed = 0 } = options;
    if (!Number.isInteger(datasetLength) || datasetLength <= 0) {
      throw new Error(`RASampler: dataset length must be a positive integer, got ${datasetLength}`);
    }
    if (!Number.isInteger(batchSize) || batchSize <= 0) throw new Error(`RASampler: bad batch size ${batchSize}`);
    if (!Number.isInteger(repetitions) || repetitions <= 0) throw new Error(`RASampler: bad repetitions ${repetitions}`);
    if (!(lengthFactor > 0)) throw new Error(`RASampler: bad length factor ${lengthFactor}`);
    if (!Number.isInteger(minBatchSize) || minBatchSize < 1) throw new Error(`RASampler: bad minimum batch size ${minBatchSize}`);
    this.datasetLength = datasetLength;
    this.batchSize = batchSize;
    this.repetitions = repetitions;
    this.lengthFactor = lengthFactor;
    this.dropLast = dropLast;
    this.minBatchSize = minBatchSize;
    this.shuffle = shuffle;
    this.seed = seed;
    this.epochLength = Math.floor(datasetLength * lengthFactor);
  }

  /** Number of batches per epoch (the last partial one counted unless dropped). */
  get batchesPerEpoch(): number {
    const full = Math.floor(this.epochLength / this.batchSize);
    const rest = this.epochLength - full * this.batchSize;
    return full + (rest > 0 && !this.dropLast && rest >= this.minBatchSize ? 1 : 0);
  }

  /** The epoch's whole sample stream (dataset indices, length `epochLength`). */
  epochIndices(epoch: number): Int32Array {
    const n = this.datasetLength;
    const m = this.repetitions;
    const out = new Int32Array(this.epochLength);
    const rng = DataRng.derive(this.seed, 0x5a3b1e, epoch);
    let perm: Int32Array = new Int32Array(0);
    let p = n;
    for (let k = 0; k < out.length; ) {
      if (p >= n) {
        perm = this.shuffle ? rng.permutation(n) : Int32Array.from({ length: n }, (_, i) => i);
        p = 0;
      }
      const idx = perm[p++]!;
      for (let r = 0; r < m && k < out.length; r++) out[k++] = idx;
    }
    return out;
  }

  /** The epoch's batches (consecutive chunks of `epochIndices`). */
  epochBatches(epoch: number): Int32Array[] {
    const all = this.epochIndices(epoch);
    const out: Int32Array[] = [];
    for (let b = 0; b < this.batchesPerEpoch; b++) {
      out.push(all.slice(b * this.batchSize, Math.min(all.length, (b + 1) * this.batchSize)));
    }
    return out;
  }

  /** Emits the batch at the cursor and advances it (rolling over to the next epoch). */
  next(): SamplerBatch {
    if (this.cursor.batch >= this.batchesPerEpoch) this.cursor = { epoch: this.cursor.epoch + 1, batch: 0 };
    const { epoch, batch } = this.cursor;
    if (this.cached?.epoch !== epoch) this.cached = { epoch, indices: this.epochIndices(epoch) };
    const all = this.cached.indices;
    const start = batch * this.batchSize;
    const indices = all.slice(start, Math.min(all.length, start + this.batchSize));
    this.cursor = { epoch, batch: batch + 1 };
    return { epoch, batch, start, indices };
  }

  /** Positions the cursor at the start of `epoch` (like PyTorch's `set_epoch`). */
  setEpoch(epoch: number): void {
    this.cursor = { epoch, batch: 0 };
  }

  /** The resumable cursor. */
  getState(): RASamplerState {
    return { seed: this.seed, epoch: this.cursor.epoch, batch: this.cursor.batch };
  }

  /** Restores a cursor saved by `getState` (the seed must match). */
  setState(state: RASamplerState): void {
    if (state.seed !== this.seed) {
      throw new Error(`RASampler.setState: state was saved with seed ${state.seed}, this sampler has seed ${this.seed}`);
    }
    this.cursor = { epoch: state.epoch, batch: state.batch };
  }
}
