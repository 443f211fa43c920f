/**
 * The page's operations, apart from its widgets: the current model, classification, the search
 * gallery, and the pool's size. The tabs call these, and so do automated tests (through
 * `window.multigrain.page`), so that a test drives the same code a person does.
 */
import { BrowserImageDecoder, classifyImages, runtime, type ByteSource, type ClassScore, type Embeddings, type PoolStats } from '../index.js';
import { absoluteSource, openCheckpoint, disposeModel, type LoadedModel } from './loaded-model.js';
import { embedInputs, type ImageInput } from './inference.js';
import { Gallery, type GalleryHit } from './gallery.js';
import type { GpuStatus } from './status.js';
import { filesOfEntries } from './dropped-files.js';
import { PageTraining, PAGE_TRAIN_DEFAULTS, fashionMnistData, folderData, type PageTrainData, type PageTrainOptions, type PageTrainingEvents } from './page-training.js';

/** What `multigrain serve` offers at /config.json (absent on a plain static host). */
export interface ServedConfig {
  checkpoint: string | null;
  fashionMnist: string | null;
}

export interface PageApi {
  status: GpuStatus | null;
  model: LoadedModel | null;
  gallery: Gallery | null;
  /** What the server offers, or null on a static host. */
  served: ServedConfig | null;
  /** The training run of the Train tab (or of `newTraining`), if any. */
  training: PageTraining | null;
  /** A new training run (not started: call its `run()`); it replaces the current one, which must not be running. */
  newTraining(data: PageTrainData, options?: Partial<PageTrainOptions>, events?: PageTrainingEvents): PageTraining;
  /** Training data from a picked folder's files (class subfolders). */
  folderData: typeof folderData;
  /** The files below dropped entries (folders walked), each with its `relativePath`: what a drop zone gives. */
  filesOfEntries: typeof filesOfEntries;
  /** Fashion-MNIST from a URL folder. */
  fashionMnistData: typeof fashionMnistData;
  /** Makes `m` the current model (the previous one's GPU memory is freed) and tells the listeners. */
  setModel(m: LoadedModel): void;
  onModelChange(listener: (m: LoadedModel) => void): void;
  /** Opens a checkpoint from bytes, a File/Blob, or a URL, and makes it the current model. */
  openCheckpoint(source: ByteSource): Promise<{ classes: readonly string[]; inputSize: number; source: string }>;
  /** The current model's l2-normalized embeddings of these images. */
  embed(images: readonly ImageInput[]): Promise<Embeddings>;
  /** Top-k classes of each image with the current model. */
  classify(images: readonly ImageInput[], k?: number): Promise<ClassScore[][]>;
  /** Embeds a gallery (replacing the previous one); returns its size. */
  buildGallery(images: readonly ImageInput[], names: readonly string[], onProgress?: (done: number) => void): Promise<number>;
  /** Nearest gallery images to a query image, or to gallery image `query` when a number. */
  search(query: ImageInput | number, k?: number): Promise<GalleryHit[]>;
  /** The gallery's embeddings as .npy bytes. */
  galleryNpy(): Uint8Array;
  /** The engine's buffer pool: bytes allocated and in use, buffers created. */
  poolStats(): PoolStats;
  /** Reads /config.json: what `multigrain serve` offers (nothing on a static host). */
  readServedConfig(): Promise<void>;
}

function requireModel(api: PageApi): LoadedModel {
  if (!api.model) throw new Error('no model yet: train one in the Train tab or load a checkpoint');
  return api.model;
}

export function createPageApi(): PageApi {
  const listeners: ((m: LoadedModel) => void)[] = [];
  const api: PageApi = {
    status: null,
    model: null,
    gallery: null,
    served: null,
    training: null,
    newTraining(data, options = {}, events = {}) {
      if (api.training?.running) throw new Error('a training run is going on: stop it first');
      api.training = new PageTraining(data, { ...PAGE_TRAIN_DEFAULTS, ...options }, events);
      return api.training;
    },
    folderData,
    filesOfEntries,
    fashionMnistData,
    setModel(m) {
      if (api.model && api.model !== m) disposeModel(api.model);
      api.model = m;
      api.gallery = null; // its embeddings came from the other model
      listeners.forEach((l) => l(m));
    },
    onModelChange(listener) {
      listeners.push(listener);
    },
    async openCheckpoint(source) {
      const m = await openCheckpoint(source);
      api.setModel(m);
      return { classes: m.classes, inputSize: m.inputSize, source: m.source };
    },
    async embed(images) {
      return embedInputs(requireModel(api), images);
    },
    async classify(images, k = 5) {
      const m = requireModel(api);
      const answers = await classifyImages(m.model, images.map((i) => absoluteSource(i)), {
        classes: m.classes, top: Math.min(k, m.classes.length), inputSize: m.inputSize, crop: m.crop, decoder: new BrowserImageDecoder(),
      });
      return answers.map((a) => a.top);
    },
    async buildGallery(images, names, onProgress) {
      api.gallery = null;
      api.gallery = await Gallery.build(requireModel(api), images, names, onProgress ? { onProgress } : {});
      return api.gallery.size;
    },
    async search(query, k = 10) {
      const g = api.gallery;
      if (!g) throw new Error('no gallery yet: drop images or pick a folder first');
      if (typeof query === 'number') return g.search(g.embedding(query), k);
      const out = await embedInputs(requireModel(api), [query]);
      return g.search(out.data, k);
    },
    galleryNpy() {
      if (!api.gallery) throw new Error('no gallery yet');
      return api.gallery.toNpy();
    },
    poolStats() {
      return runtime().pool.getStats();
    },
    async readServedConfig() {
      const res = await fetch('config.json').catch(() => null);
      if (!res?.ok) return;
      api.served = (await res.json()) as ServedConfig;
    },
  };
  return api;
}
