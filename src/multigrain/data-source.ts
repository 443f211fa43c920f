/** The datasets a MultiGrain program reads: the built-in Fashion-MNIST default or an image folder. */
import { FashionMnistDataset, ImageFolderDataset, type ImageDataset, type ImageRecord, type ImageSample } from '../data/index.js';
import { joinPath } from '../io/index.js';

export interface ClassificationData {
  train: ImageDataset;
  val: ImageDataset;
  classes: readonly string[];
}

/** The first `count` items of a dataset (all when count is 0 or larger than the dataset). */
export class SubsetDataset implements ImageDataset {
  readonly length: number;
  readonly labels: Int32Array;
  constructor(private base: ImageDataset, count: number) {
    this.length = count > 0 ? Math.min(count, base.length) : base.length;
    this.labels = base.labels.subarray(0, this.length);
  }
  record(i: number): ImageRecord {
    return this.base.record(i);
  }
  get(i: number): Promise<ImageSample> {
    return this.base.get(i);
  }
}

/**
 * Opens the training and validation sets: `fashion-mnist` (IDX files; default root from
 * Debian's dataset-fashion-mnist package) or `imagefolder` (`<path>/train/<class>/*`,
 * `<path>/val/<class>/*`).
 */
export async function openClassificationData(dataset: 'fashion-mnist' | 'imagefolder', path: string | undefined, trainSubset = 0, valSubset = 0): Promise<ClassificationData> {
  let train: ImageDataset;
  let val: ImageDataset;
  let classes: readonly string[];
  if (dataset === 'fashion-mnist') {
    const t = await FashionMnistDataset.open({ ...(path ? { root: path } : {}), split: 'train' });
    train = t;
    val = await FashionMnistDataset.open({ ...(path ? { root: path } : {}), split: 'test' });
    classes = t.classes;
  } else {
    if (!path) throw new Error('--dataset imagefolder needs --data-path <folder with train/ and val/>');
    const t = await ImageFolderDataset.open(joinPath(path, 'train'));
    train = t;
    val = await ImageFolderDataset.open(joinPath(path, 'val'));
    classes = t.classes;
  }
  return { train: new SubsetDataset(train, trainSubset), val: new SubsetDataset(val, valSubset), classes };
}

/** Dataset indices of the first `perClass` items of each class, in dataset order (the original's `--images-per-class`). */
export function firstImagesPerClass(labels: Int32Array, perClass: number): Int32Array {
  if (!Number.isInteger(perClass) || perClass < 1) throw new Error(`images per class must be a positive integer, got ${perClass}`);
  const seen = new Map<number, number>();
  const out: number[] = [];
  labels.forEach((label, i) => {
    if (label < 0) return;
    const n = seen.get(label) ?? 0;
    if (n < perClass) out.push(i);
    seen.set(label, n + 1);
  });
  return Int32Array.from(out);
}
