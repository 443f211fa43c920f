/**
 * Size bucketing for evaluation in rect mode: every image keeps its aspect ratio, so batches
 * can only hold images of one output size. Taken in dataset order, nearly every batch holds
 * one image (Copydays: 4,675 images in 3,990 forward passes). Reading each image's header
 * first (no decode) tells its output size, and visiting the images grouped by that size gives
 * full batches. A wrong or unknown size only costs speed: the loader still ends a batch
 * wherever the decoded size changes, so batches never mix sizes and nothing is padded.
 */
import type { ImageDataset, ImageRecord } from './datasets/common.js';
import { isNodeRuntime } from './decode-default.js';
import { loadSharp } from './decode-node.js';
import { validationOutputSize, type ValidationMode } from './transforms/pipelines.js';

/**
 * The stored (width, height) of a record's image after its orientation and rotation, read from
 * the file header (Node, sharp's metadata) or the in-memory pixels; null where it cannot be
 * read cheaply (a browser URL, an unreadable file: the loader reports those when it decodes).
 */
export async function recordImageSize(record: ImageRecord, exifOrientation = false): Promise<[number, number] | null> {
  let size: [number, number] | null = null;
  if (record.image) size = [record.image.width, record.image.height];
  else if (record.path !== undefined && isNodeRuntime()) {
    try {
      const sharp = await loadSharp();
      const meta = await sharp(record.path).metadata();
      if (!meta.width || !meta.height) return null;
      size = [meta.width, meta.height];
      // EXIF orientations 5-8 swap the sides when the decoder applies them: where the record says
      // so, else where the loader's exifOrientation asks (loadRecord's default: stored pixels, as PIL).
      if ((record.autoOrient ?? exifOrientation) && (meta.orientation ?? 1) >= 5) size = [size[1], size[0]];
    } catch {
      return null;
    }
  }
  if (size && record.rotate && (((record.rotate % 360) + 360) % 180) === 90) size = [size[1], size[0]];
  return size;
}

/** Options of {@link sizeBucketOrder}. */
export interface SizeBucketOptions {
  /** Headers read at once (default 16). */
  concurrency?: number;
  /** The loader's `exifOrientation`: records that do not say are decoded upright (default false). */
  exifOrientation?: boolean;
}

/**
 * A visiting order of `indices` (dataset indices) that groups images of the same validation
 * output size: a permutation of the positions 0..n-1, stable within a size. Sizes come in the
 * order they first appear; images of unknown size come last, in their order. Square mode
 * (one output size) keeps the given order.
 */
export async function sizeBucketOrder(
  dataset: Pick<ImageDataset, 'record'>, indices: ArrayLike<number>, mode: ValidationMode, size: number, options: SizeBucketOptions = {},
): Promise<Int32Array> {
  const n = indices.length;
  const identity = Int32Array.from({ length: n }, (_, k) => k);
  if (mode === 'square' || n <= 1) return identity;
  const keys: (string | null)[] = new Array<string | null>(n).fill(null);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      const k = next++;
      const wh = await recordImageSize(dataset.record(indices[k]!), options.exifOrientation ?? false);
      keys[k] = wh ? validationOutputSize(mode, wh[0], wh[1], size).join('x') : null;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency ?? 16, n)) }, worker));
  const buckets = new Map<string, number[]>();
  const unknown: number[] = [];
  for (let k = 0; k < n; k++) {
    const key = keys[k];
    if (key === null || key === undefined) unknown.push(k);
    else if (buckets.has(key)) buckets.get(key)!.push(k);
    else buckets.set(key, [k]);
  }
  return Int32Array.from([...[...buckets.values()].flat(), ...unknown]);
}
