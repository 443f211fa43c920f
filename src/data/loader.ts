/**
 * The data loader: decodes and augments samples ahead of consumption, in parallel worker
 * threads (Node; `workers: 0` or the browser run them in the calling thread), and
 * assembles host batches: NCHW float32 images, class labels and instance ids (the dataset
 * index, so repeated augmentations of one image share an id).
 *
 * Deterministic under a seed whatever the worker count: sample k of epoch e is augmented
 * with DataRng.derive(seed, e, k) and batches are assembled in stream order.
 *
 * Unreadable images stop the loader with an error naming the file, unless
 * `skipUnreadable`: then the sample is left out of its batch (which gets smaller), a
 * warning is printed and `skipped` / `skippedFiles` count it.
 */
import type { ImageDecoder } from './decode.js';
import { ImageDecodeError } from './decode.js';
import { defaultImageDecoder, isNodeRuntime } from './decode-default.js';
import type { ImageRecord } from './datasets/common.js';
import { checkDatasetSample, hasRecords, isChwImage, type Dataset } from './datasets/dataset.js';
import type { SamplePipeline, SampleResult, SampleTask } from './sample-task.js';
import { makeSamplePipeline, runSampleTask, sampleRng, sampleFailure } from './sample-task.js';
import type { RASampler } from './sampler.js';
import type { ImageTransform, TransformSpec } from './transforms/pipelines.js';
import { makeTrainPlan, makeTransform, type TrainColourConstants } from './transforms/pipelines.js';
import { AUGMENT_PARAMS_PER_IMAGE } from '../util/augment-params.js';
import { uninitializedBuffer } from '../util/uninitialized.js';
import { SampleWorkerPool } from './worker-pool.js';

/**
 * A `gpuAugment` batch: the uint8 crops and each image's colour draws, for the engine's
 * `augmentImages(tensor(pixels, undefined, 'u32'), tensor(params, [N, 8]), H, W, colour)`.
 */
export interface GpuAugmentBatch {
  /** The bytes of the [N, H, W, 3] uint8 RGB crops, packed 4 to a u32 (little-endian, zero-padded). */
  pixels: Uint32Array;
  /** [N, AUGMENT_PARAMS_PER_IMAGE] f32: jitter order and factors, lighting offset (util/augment-params.ts). */
  params: Float32Array;
  /** The recipe's normalisation, scale and clamp. */
  colour: TrainColourConstants;
}

/** A batch on the host, ready to become engine tensors. */
export interface HostBatch {
  /** NCHW float32 pixels; empty when `gpu` holds the batch's uint8 crops instead. */
  images: Float32Array;
  /** Set (and `images` empty) for training batches of a `gpuAugment` loader. */
  gpu?: GpuAugmentBatch;
  /** [N, 3, H, W]. */
  shape: [number, number, number, number];
  /** Class label per sample (-1 = none). */
  labels: Int32Array;
  /** Instance id per sample = dataset index. */
  instanceIds: Int32Array;
  /** Position of each sample in the epoch stream (train) or evaluation order. */
  positions: Int32Array;
  epoch: number;
  /** Batch number (sampler batch for training; running count for evaluation). */
  index: number;
}

/** Options of {@link DataLoader}. */
export interface DataLoaderOptions {
  /**
   * Any {@link Dataset}. One without `record()` is loaded through `get()` in the calling
   * thread (worker threads cannot call a user's object); its CHW float images skip the transform.
   */
  dataset: Dataset;
  /**
   * The pipeline: a spec (plain data, so workers can rebuild it) or a function (run in the
   * calling thread only).
   */
  transform: TransformSpec | ImageTransform;
  /** Seed of the per-sample augmentation streams. Default 0. */
  seed?: number;
  /**
   * Worker threads; default os.availableParallelism() in Node, 0 in the browser. 0 = in this
   * thread. More than the CPU cores is capped at the core count (with a note): each worker
   * holds its own decoder and buffers, and thousands of them exhaust memory for no speed.
   */
  workers?: number;
  /** Called once per process for a capped worker count (default: console.warn). */
  onNote?: (message: string) => void;
  /** Samples decoded ahead of the consumer. Default: one batch + 4 per worker, so the next
   * batch is being prepared while the consumer works on the current one. */
  prefetch?: number;
  /** Skip unreadable images (warning + count) instead of failing. Default false. */
  skipUnreadable?: boolean;
  /** Called for each skipped image (default: console.warn). */
  onSkip?: (file: string, message: string) => void;
  /**
   * Apply the EXIF orientation of files whose record does not say (default false: the stored
   * pixels, as PIL reads them; Holidays keeps its own false, its fix-up list being made for
   * the stored pixels).
   */
  exifOrientation?: boolean;
  /** Decoder for in-thread work (default: sharp in Node, the browser codecs in a browser). */
  decoder?: ImageDecoder;
  /**
   * Training batches carry the uint8 crops and each image's colour draws (`HostBatch.gpu`,
   * a quarter of the float upload) for the engine's `augmentImages`, instead of the float
   * pixels: the same draws from the same streams. Needs a train spec and a dataset with
   * `record()` (otherwise refused). Default false.
   */
  gpuAugment?: boolean;
}

/** Options of {@link DataLoader.evaluation}. */
export interface EvaluationBatchOptions {
  /** Max images per batch (default 1). In rect mode a batch also ends where the image size changes. */
  batchSize?: number;
  /** Dataset indices to visit, in order (default all). */
  indices?: ArrayLike<number>;
}

/** The samples of one run, produced on demand (an epoch can be millions long). */
interface StreamSource {
  length: number;
  at(k: number): StreamItem;
}

interface StreamItem {
  index: number;
  position: number;
  batch: number;
  last: boolean;
}


/** Parallel, prefetching, deterministic batch producer. */
export class DataLoader {
  readonly dataset: Dataset;
  readonly transform: TransformSpec | ImageTransform;
  readonly seed: number;
  readonly workers: number;
  /** The `prefetch` option (undefined: one batch + 4 per worker). */
  readonly prefetch: number | undefined;
  readonly skipUnreadable: boolean;
  readonly exifOrientation: boolean;
  /** The constants of the GPU colour stages where the loader's training batches are uint8 (`gpuAugment`), else null. */
  readonly gpuColour: TrainColourConstants | null;
  /** Number of images skipped so far. */
  skipped = 0;
  /** Files skipped so far. */
  readonly skippedFiles: string[] = [];
  private readonly onSkip: (file: string, message: string) => void;
  private readonly decoderOption: ImageDecoder | undefined;
  private pool: Promise<SampleWorkerPool> | null = null;
  private local: { pipeline: SamplePipeline; decoder: Promise<ImageDecoder> } | null = null;
  private nextId = 0;
  private closed = false;

  constructor(options: DataLoaderOptions) {
    this.dataset = options.dataset;
    this.transform = options.transform;
    if (typeof options.transform !== 'function') makeTransform(options.transform); // validate now
    this.seed = options.seed ?? 0;
    let workers = options.workers;
    if (workers === undefined) workers = isNodeRuntime() ? defaultWorkerCount() : 0;
    if (!Number.isInteger(workers) || workers < 0) throw new Error(`DataLoader: workers must be an integer >= 0, got ${workers}`);
    const cores = cpuCores();
    if (workers > cores) {
      // once per requested count: a run's training and validation loaders share the note
      if (!notedCaps.has(workers)) (options.onNote ?? ((m: string) => console.warn(m)))(`DataLoader: ${workers} workers requested, using ${cores} (the number of CPU cores)`);
      notedCaps.add(workers);
      workers = cores;
    }
    if (!isNodeRuntime()) workers = 0; // worker threads are Node's; a page loads in its own thread
    if (workers > 0 && !(hasRecords(options.dataset) && typeof options.transform !== 'function')) {
      const why = hasRecords(options.dataset) ? 'the transform is a function' : 'the dataset has no record()';
      // said only to a caller who asked for workers; the default count falls back silently
      if (options.workers !== undefined) (options.onNote ?? ((m: string) => console.warn(m)))(`DataLoader: ${why}, so images are loaded in the calling thread (${workers} worker(s) requested, none used)`);
      workers = 0;
    }
    this.workers = workers;
    if (options.prefetch !== undefined && !(options.prefetch >= 1)) throw new Error(`DataLoader: prefetch must be >= 1, got ${options.prefetch}`);
    this.prefetch = options.prefetch;
    this.skipUnreadable = options.skipUnreadable ?? false;
    this.exifOrientation = options.exifOrientation ?? false;
    this.onSkip = options.onSkip ?? ((file, message) => console.warn(`DataLoader: skipping unreadable image ${file}: ${message}`));
    this.decoderOption = options.decoder;
    this.gpuColour = null;
    if (options.gpuAugment) {
      const t = options.transform;
      if (typeof t === 'function' || t.kind !== 'train') throw new Error('DataLoader: gpuAugment needs a training transform spec (kind "train"), not a function or a validation spec');
      if (!hasRecords(options.dataset)) throw new Error('DataLoader: gpuAugment needs a dataset with record() (images read through get() are augmented on the CPU)');
      this.gpuColour = makeTrainPlan(t.recipe, t.size, t.mean, t.std, t.cropScale).colour;
    }
  }

  /**
   * Training batches of `epoch` from an RA sampler (its batches, in order), starting at
   * batch `startBatch` (to resume mid-epoch).
   */
  trainEpoch(sampler: RASampler, epoch: number, startBatch = 0): AsyncGenerator<HostBatch> {
    if (sampler.datasetLength !== this.dataset.length) {
      throw new Error(`DataLoader: sampler is for ${sampler.datasetLength} items, dataset has ${this.dataset.length}`);
    }
    const all = sampler.epochIndices(epoch);
    const B = sampler.batchSize;
    const first = Math.min(startBatch, sampler.batchesPerEpoch) * B;
    const end = Math.min(all.length, sampler.batchesPerEpoch * B);
    const items: StreamSource = {
      length: Math.max(0, end - first),
      at: (k) => {
        const p = first + k;
        return { index: all[p]!, position: p, batch: Math.floor(p / B), last: (p + 1) % B === 0 || p === end - 1 };
      },
    };
    return this.run(items, epoch, 0, B, this.gpuColour !== null);
  }

  /**
   * Evaluation batches in dataset order (no augmentation randomness; epoch 0): runs of
   * consecutive images of one output size, at most `batchSize` long. Square mode gives
   * full batches; rect mode with batchSize 1 (default) gives one image per batch.
   */
  evaluation(options: EvaluationBatchOptions = {}): AsyncGenerator<HostBatch> {
    const batchSize = options.batchSize ?? 1;
    if (!Number.isInteger(batchSize) || batchSize <= 0) throw new Error(`DataLoader: bad batch size ${batchSize}`);
    const indices = options.indices ?? Int32Array.from({ length: this.dataset.length }, (_, i) => i);
    const items: StreamSource = { length: indices.length, at: (k) => ({ index: indices[k]!, position: k, batch: 0, last: false }) };
    return this.run(items, 0, batchSize, batchSize, false);
  }

  /** The record of dataset item `index`, with the loader's EXIF choice where the record makes none. */
  private taskRecord(index: number): ImageRecord {
    const record = this.dataset.record!(index);
    return this.exifOrientation && record.autoOrient === undefined && record.path !== undefined ? { ...record, autoOrient: true } : record;
  }

  /** Stops the worker threads. The loader cannot be used afterwards. */
  async close(): Promise<void> {
    this.closed = true;
    const pool = this.pool;
    this.pool = null;
    if (pool) await (await pool).close();
  }

  /** Produces dataset item `index` at stream position `position`: from its record (workers or here), else through `get`. */
  private produce(id: number, index: number, epoch: number, position: number, uint8: boolean): Promise<SampleResult> {
    if (!hasRecords(this.dataset)) return this.fromGet(id, index, epoch, position);
    return this.execute({ id, record: this.taskRecord(index), seed: this.seed, epoch, position, uint8 });
  }

  private async execute(task: SampleTask): Promise<SampleResult> {
    if (this.closed) throw new Error('DataLoader: closed');
    if (this.workers > 0) {
      this.pool ??= SampleWorkerPool.create(this.workers, this.transform as TransformSpec);
      return (await this.pool).run(task);
    }
    const local = this.localPipeline();
    return runSampleTask(task, local.pipeline, await local.decoder);
  }

  private localPipeline(): { pipeline: SamplePipeline; decoder: Promise<ImageDecoder> } {
    if (!this.local) {
      const decoder = Promise.resolve(this.decoderOption ?? defaultImageDecoder());
      const pipeline = typeof this.transform === 'function' ? { transform: this.transform, cropOnDecode: null, train: null } : makeSamplePipeline(this.transform);
      this.local = { pipeline, decoder };
    }
    return this.local;
  }

  /** A user dataset's item through `get` (calling thread): RGB images are transformed, CHW images used as they are. */
  private async fromGet(id: number, index: number, epoch: number, position: number): Promise<SampleResult> {
    if (this.closed) throw new Error('DataLoader: closed');
    try {
      const sample = await this.dataset.get(index);
      checkDatasetSample(sample, index);
      const out = isChwImage(sample.image) ? sample.image : this.localPipeline().pipeline.transform(sample.image, sampleRng(this.seed, epoch, position));
      return { id, ok: true, data: out.data, width: out.width, height: out.height, label: sample.label };
    } catch (e) {
      return sampleFailure(id, e, undefined);
    }
  }

  /** `greedy` > 0: group consecutive same-size samples up to that count (evaluation); 0: sampler batches. */
  private async *run(items: StreamSource, epoch: number, greedy: number, batchSize: number, uint8: boolean): AsyncGenerator<HostBatch> {
    const ahead = this.prefetch ?? batchSize + 4 * Math.max(1, this.workers);
    const pending = new Map<number, Promise<SampleResult>>();
    let dispatched = 0;
    const dispatch = (upTo: number): void => {
      for (; dispatched < Math.min(items.length, upTo); dispatched++) {
        const it = items.at(dispatched);
        const p = this.produce(this.nextId++, it.index, epoch, it.position, uint8);
        p.catch(() => undefined); // handled when consumed
        pending.set(dispatched, p);
      }
    };
    let group: { results: Sampled[]; width: number; height: number; batch: number } | null = null;
    let emitted = 0;
    const emit = (): HostBatch | null => {
      const g = group;
      group = null;
      if (!g || g.results.length === 0) return null;
      emitted++;
      return assemble(g.results, g.width, g.height, epoch, g.batch, this.dataset.labels, this.gpuColour);
    };
    try {
      for (let k = 0; k < items.length; k++) {
        dispatch(k + ahead);
        const item = items.at(k);
        const r = await pending.get(k)!;
        pending.delete(k);
        if (!r.ok) {
          const file = r.file ?? `dataset item ${item.index}`;
          if (r.decodeError && this.skipUnreadable) {
            this.skipped++;
            this.skippedFiles.push(file);
            this.onSkip(file, r.message);
          } else if (r.decodeError) {
            throw new ImageDecodeError(file, r.message);
          } else {
            throw new Error(`DataLoader: sample ${item.index} (${file}) failed: ${r.message}`);
          }
        } else {
          if (group && ((greedy === 0 && group.batch !== item.batch) ||
              (greedy > 0 && (group.width !== r.width || group.height !== r.height || group.results.length >= greedy)))) {
            const b = emit();
            if (b) yield b;
          }
          group ??= { results: [], width: r.width, height: r.height, batch: greedy > 0 ? emitted : item.batch };
          if (group.width !== r.width || group.height !== r.height) {
            throw new Error(`DataLoader: samples of one batch differ in size (${group.width}x${group.height} vs ${r.width}x${r.height}); use evaluation() for rect mode`);
          }
          group.results.push({ data: r.data, params: r.params, item, label: r.label });
        }
        if (item.last) {
          const b = emit();
          if (b) yield b;
        }
      }
      const b = emit();
      if (b) yield b;
    } finally {
      // An abandoned iteration leaves tasks running; their results are dropped.
      for (const p of pending.values()) p.catch(() => undefined);
    }
  }
}

/** A produced sample in its batch; `label` where the dataset gave it through `get`. */
interface Sampled {
  /** CHW float pixels, or the HWC uint8 crop with its colour draws in `params`. */
  data: Float32Array | Uint8Array;
  params: Float32Array | undefined;
  item: StreamItem;
  label: number | undefined;
}

/**
 * `labels`: the dataset's label list; without it, each sample's own label (from `get`).
 * `colour`: set where the samples are uint8 crops (gpuAugment), which go to `gpu`.
 */
function assemble(results: Sampled[], width: number, height: number, epoch: number, batch: number, labels: Int32Array | undefined, colour: TrainColourConstants | null): HostBatch {
  const n = results.length;
  const per = 3 * width * height;
  const uint8 = colour !== null;
  const images = new Float32Array(uint8 ? 0 : n * per);
  const words = uint8 ? Math.ceil((n * per) / 4) : 0;
  const pixels = new Uint32Array(uninitializedBuffer(4 * words));
  if (words > 0) pixels[words - 1] = 0; // the padding of the last word; the crops fill the rest
  const bytes = new Uint8Array(pixels.buffer);
  const params = new Float32Array(uint8 ? n * AUGMENT_PARAMS_PER_IMAGE : 0);
  const instanceIds = new Int32Array(n);
  const lab = new Int32Array(n);
  const positions = new Int32Array(n);
  results.forEach((r, i) => {
    if (uint8 !== (r.data instanceof Uint8Array)) throw new Error(`DataLoader: sample ${r.item.index} came back as ${r.data.constructor.name}, the batch expects ${uint8 ? 'uint8 crops' : 'float pixels'}`);
    if (uint8) {
      bytes.set(r.data, i * per);
      params.set(r.params!, i * AUGMENT_PARAMS_PER_IMAGE);
    } else images.set(r.data, i * per);
    instanceIds[i] = r.item.index;
    lab[i] = labels ? labels[r.item.index]! : (r.label ?? -1);
    positions[i] = r.item.position;
  });
  const gpu = uint8 ? { gpu: { pixels, params, colour } } : {};
  return { images, ...gpu, shape: [n, 3, height, width], labels: lab, instanceIds, positions, epoch, index: batch };
}

/** Whether a loader of this dataset and transform can take `gpuAugment` (a train spec, a dataset with `record()`). */
export function gpuAugmentApplies(dataset: Dataset, transform: TransformSpec | ImageTransform): boolean {
  return typeof transform !== 'function' && transform.kind === 'train' && hasRecords(dataset);
}

/** Worker counts already capped (and noted) in this process. */
const notedCaps = new Set<number>();

/** CPU cores: os.availableParallelism() in Node, navigator.hardwareConcurrency in a browser (at least 1). */
export function cpuCores(): number {
  if (isNodeRuntime()) return availableParallelism();
  const n = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
  return n && n > 0 ? n : 1;
}

/** os.availableParallelism() (Node), else 0. */
export function defaultWorkerCount(): number {
  return isNodeRuntime() ? availableParallelism() : 0;
}

let parallelism = 0;
function availableParallelism(): number {
  if (parallelism === 0) {
    // Lazy, synchronous access without a static import of node:os (browser bundle).
    const os = (globalThis as { process?: { getBuiltinModule?: (m: string) => unknown } }).process?.getBuiltinModule?.('node:os') as
      { availableParallelism?: () => number; cpus: () => unknown[] } | undefined;
    parallelism = os ? (os.availableParallelism?.() ?? os.cpus().length) : 1;
  }
  return parallelism;
}

