/**
 * Training in the page: the library's `train()` on Fashion-MNIST (fetched from the server) or
 * on a picked folder, its run folder in memory (`MemoryFileStore`), stopped with an
 * AbortController and resumed from the last epoch's checkpoint by a second `train()` on the
 * same files, as the CLI resumes a run folder.
 */
import {
  FashionMnistDataset, FileListDataset, MemoryFileStore, SubsetDataset, train,
  type Dataset, type EpochRecord, type FileLike, type MultiGrain, type ResNetDepth, type StepRecord,
} from '../index.js';
import type { LoadedModel } from './loaded-model.js';

/** The options the Train tab offers (the rest are the trainer's defaults). */
export interface PageTrainOptions {
  backbone: ResNetDepth;
  baseWidth: number;
  inputSize: number;
  epochs: number;
  batchSize: number;
  /** Learning rate for batch 512; the trainer scales it linearly with the batch (as the original). */
  learningRate: number;
  /** Training images used (the first N; 0 = all). */
  trainSubset: number;
  /** Validation images used (the first N; 0 = all). */
  valSubset: number;
  /** Validate once before training (epoch 0 of the curves). */
  validateFirst: boolean;
}

export const PAGE_TRAIN_DEFAULTS: PageTrainOptions = {
  backbone: 18, baseWidth: 8, inputSize: 32, epochs: 1, batchSize: 32, learningRate: 0.2, trainSubset: 2048, valSubset: 512, validateFirst: false,
};

/** Training and validation data with class names. */
export interface PageTrainData {
  train: Dataset;
  val?: Dataset;
  classes: readonly string[];
  /** What it is, for the progress line. */
  name: string;
}

/** Fashion-MNIST from a URL folder (what `multigrain serve` offers at /data/fashion-mnist/). */
export async function fashionMnistData(base: string, options: PageTrainOptions): Promise<PageTrainData> {
  const [train, test] = await Promise.all([FashionMnistDataset.fetch(base, 'train'), FashionMnistDataset.fetch(base, 'test')]);
  return { train: new SubsetDataset(train, options.trainSubset), val: new SubsetDataset(test, options.valSubset), classes: train.classes, name: 'Fashion-MNIST' };
}

/** A picked or dropped file's path, the picked folder's name first. */
function pathOf(f: FileLike): string {
  return f.webkitRelativePath || f.relativePath || f.name;
}

/**
 * A picked folder: `root/train/<class>/` and `root/val/<class>/` when it has them (an image
 * folder's layout), else `root/<class>/` for training only.
 */
export function folderData(files: readonly FileLike[]): PageTrainData {
  const hasSplit = files.some((f) => /^[^/]+\/train\//.test(pathOf(f)));
  if (!hasSplit) {
    const train = new FileListDataset(files);
    if (train.classes.length < 2) throw new Error(`the folder holds ${train.classes.length} class folder(s): training needs class subfolders (root/<class>/<image>), at least two`);
    return { train, classes: train.classes, name: `${train.length} images, ${train.classes.length} classes` };
  }
  const train = new FileListDataset(files, { under: 'train' });
  const val = files.some((f) => /^[^/]+\/val\//.test(pathOf(f))) ? new FileListDataset(files, { under: 'val', classes: train.classes }) : undefined;
  return { train, ...(val ? { val } : {}), classes: train.classes, name: `${train.length} images, ${train.classes.length} classes` };
}

export interface PageTrainingEvents {
  onStep?: (r: StepRecord) => void;
  onEpoch?: (r: EpochRecord) => void;
  onLog?: (line: string) => void;
}

/** One training run of the page: start, stop, resume, its checkpoint. */
export class PageTraining {
  readonly files = new MemoryFileStore();
  readonly steps: StepRecord[] = [];
  readonly epochs: EpochRecord[] = [];
  /** The run's epoch records as the trainer keeps them (epoch 0 = before training, with validateFirst), after each `run()`. */
  history: EpochRecord[] = [];
  /** Path (in `files`) of the last checkpoint written, or null. */
  checkpoint: string | null = null;
  private controller: AbortController | null = null;

  constructor(readonly data: PageTrainData, readonly options: PageTrainOptions, private readonly events: PageTrainingEvents = {}) {}

  get running(): boolean {
    return this.controller !== null;
  }

  /**
   * Trains (or, after a stop, resumes from the last checkpoint) until the last epoch or a stop;
   * the model it gives is the one of the last step. `stopped`: ended by `stop()`.
   */
  async run(): Promise<{ model: LoadedModel; stopped: boolean }> {
    if (this.controller) throw new Error('training is already running');
    const controller = new AbortController();
    this.controller = controller;
    const o = this.options;
    try {
      const result = await train({
        expdir: 'run', backbone: o.backbone, baseWidth: o.baseWidth, inputSize: o.inputSize, epochs: o.epochs,
        batchSize: o.batchSize, learningRate: o.learningRate, lrDropsEpochs: [], lrDropsFactors: [],
        workers: 0, progress: false, validateFirst: o.validateFirst, logEvery: 1, saveEvery: 1,
        data: { train: this.data.train, ...(this.data.val ? { val: this.data.val } : {}), classes: this.data.classes },
        signal: controller.signal,
        onStep: (r) => { this.steps.push(r); this.events.onStep?.(r); },
        onEpoch: (r) => { this.epochs.push(r); this.events.onEpoch?.(r); },
        onCheckpoint: (e) => { this.checkpoint = e.path; },
      }, (line) => this.events.onLog?.(line), this.files);
      this.history = result.history;
      const model: MultiGrain = result.model;
      model.eval();
      return { model: { model, classes: this.data.classes, inputSize: o.inputSize, crop: 'square', source: 'trained in this page' }, stopped: result.stopped };
    } finally {
      this.controller = null;
    }
  }

  /** Asks the run to stop after its current step (the unfinished epoch is not saved). */
  stop(): void {
    this.controller?.abort();
  }

  /** The last checkpoint's bytes (safetensors, class names in its metadata), or null before the first epoch ends. */
  async checkpointBytes(): Promise<Uint8Array | null> {
    return this.checkpoint ? this.files.readFile(this.checkpoint) : null;
  }
}
