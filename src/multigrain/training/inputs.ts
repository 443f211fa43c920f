/**
 * What `train()` takes beside its options when used as a library: your own data, transforms,
 * model, callbacks and a stop signal. The CLI passes none of them, and `train()` then opens
 * `--dataset` and builds MultiGrain from the options as before. Nothing here touches Node, so a
 * page can train with a `MemoryFileStore` and stop and resume its run.
 */
import { l2normalize, type Tensor } from '../../engine/index.js';
import type { Module } from '../../nn/index.js';
import type { Dataset, ImageTransform, TransformSpec } from '../../data/index.js';
import type { FileStore } from '../../io/index.js';
import type { EpochRecord, StepRecord } from './trainer.js';

/** What a trainable model's forward gives: logits for the cross-entropy; an embedding for the margin loss. */
export interface TrainOutput {
  /** [N, classes]. */
  logits: Tensor;
  /** The l2-normalized embedding [N, D] (used by the margin loss when given). */
  normalizedEmbedding?: Tensor;
  /** The embedding [N, D], normalized here when `normalizedEmbedding` is missing. */
  embedding?: Tensor;
}

/** Any nn Module whose forward maps an [N, 3, H, W] batch to logits and an embedding. */
export type TrainableModel = Module & { forward(x: Tensor): TrainOutput };

/** Training and (optional) validation sets; labels are indices into `classes`. */
export interface TrainData {
  train: Dataset;
  /** Without it, epochs are not validated (their records have no `val`). */
  val?: Dataset;
  /** Class names in label order; checkpoints keep them (classify reads them back). */
  classes: readonly string[];
}

/** A checkpoint just written (atomically) by `train()`. */
export interface CheckpointEvent {
  /** Its path in `files`. */
  path: string;
  epoch: number;
  /** The store it was written to (read it back with `files.readFile(path)`). */
  files: FileStore;
}

/** Library inputs of `train()`; every member is optional. */
export interface TrainInputs<M extends TrainableModel = TrainableModel> {
  /** Your own datasets (instead of `dataset`/`dataPath`). */
  data?: TrainData;
  /**
   * The pipelines (default: the options' augmentation recipe at `inputSize`, and the `valMode`
   * evaluation transform). A function runs in the calling thread; CHW float images skip it.
   */
  transforms?: { train?: TransformSpec | ImageTransform; val?: TransformSpec | ImageTransform };
  /** Your own model (default: MultiGrain built from the options and the number of classes). */
  model?: M;
  /** Called with each log window's record (every `logEvery` steps). */
  onStep?: (record: StepRecord) => void | Promise<void>;
  /** Called with each epoch's record, after validation and before its checkpoint. */
  onEpoch?: (record: EpochRecord) => void | Promise<void>;
  /** Called after each checkpoint is written (and the metrics files beside it). */
  onCheckpoint?: (event: CheckpointEvent) => void | Promise<void>;
  /**
   * Stops training after the current step: the unfinished epoch is neither validated nor
   * saved, so a later `train()` with the same options and files resumes from the last
   * checkpoint (`resumeEpoch` -1, the default).
   */
  signal?: AbortSignal;
  /** Polled after every step, as `signal`. */
  shouldStop?: () => boolean;
}

/** The keys of {@link TrainInputs}, to split them from the options (which are saved as train_args.json). */
const INPUT_KEYS = ['data', 'transforms', 'model', 'onStep', 'onEpoch', 'onCheckpoint', 'signal', 'shouldStop'] as const;

/** Splits `train()`'s argument into its options and its library inputs. */
export function splitTrainInputs<O extends object, M extends TrainableModel>(all: O & TrainInputs<M>): { options: O; inputs: TrainInputs<M> } {
  const options = { ...all } as Record<string, unknown>;
  const inputs: Record<string, unknown> = {};
  for (const key of INPUT_KEYS) {
    if (key in options) inputs[key] = options[key];
    delete options[key];
  }
  return { options: options as O, inputs: inputs as TrainInputs<M> };
}

/** True once a stop was asked for (signal aborted or shouldStop() true). */
export function stopRequested(inputs: TrainInputs<TrainableModel>): boolean {
  return inputs.signal?.aborted === true || inputs.shouldStop?.() === true;
}

/**
 * Refuses data that cannot train: no classes, an empty training set, or (where the dataset
 * lists its labels) a label outside [0, classes). Errors name the set and the item.
 */
export function checkTrainData(data: TrainData): void {
  if (!Array.isArray(data.classes) || data.classes.length === 0) throw new Error('train: data.classes must list the class names (at least one)');
  for (const [name, set] of [['data.train', data.train], ['data.val', data.val]] as const) {
    if (set === undefined) continue;
    if (!set || !Number.isInteger(set.length) || set.length < 0 || typeof set.get !== 'function') {
      throw new Error(`train: ${name} must be a dataset: an object with length and get(i) giving { image, label }`);
    }
    if (!set.labels) continue;
    const bad = set.labels.findIndex((l) => !(l >= 0 && l < data.classes.length));
    if (bad >= 0) throw new Error(`train: ${name} item ${bad} has label ${set.labels[bad]}, not a class index in [0, ${data.classes.length})`);
  }
  if (data.train.length === 0) throw new Error('train: data.train is empty');
}

/**
 * The forward outputs a step needs: logits, and with `needEmbedding` the normalized embedding
 * (normalized here when the model gives only `embedding`).
 */
export function trainingOutputs(model: TrainableModel, x: Tensor, needEmbedding: boolean): { logits: Tensor; normalizedEmbedding: Tensor } {
  const out = model.forward(x);
  if (!out || !out.logits) throw new Error('train: the model\'s forward must give { logits, normalizedEmbedding or embedding }');
  let normalized = out.normalizedEmbedding;
  if (!normalized && needEmbedding) {
    if (!out.embedding) throw new Error('train: the margin loss (classifWeight < 1) needs the model\'s forward to give normalizedEmbedding or embedding; or set classifWeight 1');
    normalized = l2normalize(out.embedding);
  }
  return { logits: out.logits, normalizedEmbedding: normalized ?? out.logits };
}
