/**
 * The smallest dataset the loader, `train()` and `finetuneP()` accept: a length and `get(i)`.
 * Every built-in {@link ImageDataset} is one; a user's own (an array in memory, images
 * fetched in a page, a generator of synthetic data) needs nothing more.
 */
import type { ChwImage, RgbImage } from '../image.js';
import type { ImageRecord } from './common.js';

/**
 * What `get(i)` gives as the image:
 * - an {@link RgbImage} (8-bit HWC): it goes through the loader's transform (augmentation,
 *   resize, normalization), as a decoded file does;
 * - a {@link ChwImage} (float32 CHW, 3 channels): a tensor ready for the model; the
 *   transform is skipped (the dataset did its own preprocessing), and all images of a
 *   batch must then have one size.
 */
export type DatasetImage = RgbImage | ChwImage;

/** One item of a {@link Dataset}. */
export interface DatasetSample {
  image: DatasetImage;
  /** Class index in [0, classes), or -1 for an unlabeled item. */
  label: number;
}

/**
 * Any random-access dataset. Optional members make it faster:
 * - `labels`: the label of every item without loading it (else labels come from `get`);
 * - `record(i)`: where item i comes from as plain data (a file path or pixels), which the
 *   loader's worker threads can load in parallel. Without it, `get` runs in the calling thread.
 */
export interface Dataset {
  readonly length: number;
  get(i: number): DatasetSample | Promise<DatasetSample>;
  readonly labels?: Int32Array;
  record?(i: number): ImageRecord;
}

/** True for a float CHW image (a tensor), false for 8-bit RGB. */
export function isChwImage(image: DatasetImage): image is ChwImage {
  return image.data instanceof Float32Array;
}

/** True when the dataset can describe its items as plain records (worker threads can load them). */
export function hasRecords(dataset: Dataset): dataset is Dataset & { record(i: number): ImageRecord } {
  return typeof dataset.record === 'function';
}

/**
 * Checks a sample a user's dataset gave, naming the item: an RGB image with width * height * 3
 * bytes, or a 3-channel CHW float image of channels * height * width values; an integer label.
 */
export function checkDatasetSample(sample: DatasetSample, index: number): void {
  const where = `dataset item ${index}`;
  if (!sample || typeof sample !== 'object' || !sample.image) throw new Error(`${where}: get() must give { image, label }, got ${String(sample)}`);
  if (!Number.isInteger(sample.label) || sample.label < -1) throw new Error(`${where}: label must be an integer >= -1 (-1 = none), got ${String(sample.label)}`);
  const img = sample.image;
  if (!(Number.isInteger(img.width) && img.width > 0 && Number.isInteger(img.height) && img.height > 0)) {
    throw new Error(`${where}: bad image size ${img.width}x${img.height}`);
  }
  if (isChwImage(img)) {
    if (img.channels !== 3) throw new Error(`${where}: a CHW image must have 3 channels, got ${img.channels}`);
    if (img.data.length !== 3 * img.height * img.width) throw new Error(`${where}: a 3x${img.height}x${img.width} CHW image needs ${3 * img.height * img.width} values, got ${img.data.length}`);
  } else if (!(img.data instanceof Uint8Array) || img.data.length !== img.width * img.height * 3) {
    throw new Error(`${where}: an RGB image of ${img.width}x${img.height} needs a Uint8Array of ${img.width * img.height * 3} bytes (or a Float32Array CHW image with channels: 3)`);
  }
}
