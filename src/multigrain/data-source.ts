/** The datasets a MultiGrain program reads: the built-in Fashion-MNIST default or an image folder. */
import { DataRng } from '../util/rng.js';
import { FashionMnistDataset, ImageFolderDataset, ImagenetValDataset, isFlatImageFolder, type ImagenetValOptions, type ImageDataset, type ImageRecord, type ImageSample } from '../data/index.js';
import { joinPath, nodeFileStore } from '../io/index.js';

export interface ClassificationData {
  train: ImageDataset;
  val: ImageDataset;
  /** Class names; label i of both sets is classes[i]. */
  classes: readonly string[];
}

/** The class names a model was trained on, and what to call them in an error. */
export interface KnownClasses {
  /** Class names in label order. */
  names: readonly string[];
  /** Where they come from, for messages (e.g. "the model in run/checkpoint_3.safetensors"). */
  of: string;
}

/** The first names of a list, then how many more (for error messages about long class lists). */
export function shortList(names: readonly string[], first = 8): string {
  const shown = names.slice(0, first).map((n) => JSON.stringify(n)).join(', ');
  return names.length > first ? `${shown}, ... (${names.length - first} more)` : shown;
}

/**
 * A dataset relabeled into another class list by class name: `labels[i]` becomes the index of
 * the item's class name in `known.names`. Classes are matched by name, never by position, so
 * differently ordered (or partial) class folders keep their meaning; a class unknown to
 * `known` is refused naming it.
 */
export class ClassMappedDataset implements ImageDataset {
  readonly length: number;
  readonly labels: Int32Array;
  /** = known.names. */
  readonly classes: readonly string[];
  constructor(private base: ImageDataset, baseClasses: readonly string[], known: KnownClasses, where: string) {
    const index = new Map(known.names.map((name, i) => [name, i] as [string, number]));
    const unknown = baseClasses.filter((name) => !index.has(name));
    if (unknown.length > 0) {
      throw new Error(
        `${where}: class${unknown.length > 1 ? 'es' : ''} ${shortList(unknown)} ${unknown.length > 1 ? 'are' : 'is'} not among the ` +
          `${known.names.length} classes of ${known.of} (${shortList(known.names)})`,
      );
    }
    const map = baseClasses.map((name) => index.get(name)!);
    this.length = base.length;
    this.labels = Int32Array.from(base.labels, (label) => (label < 0 ? label : map[label]!));
    this.classes = known.names;
  }
  record(i: number): ImageRecord {
    return { ...this.base.record(i), label: this.labels[i]! };
  }
  async get(i: number): Promise<ImageSample> {
    return { ...(await this.base.get(i)), label: this.labels[i]! };
  }
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
 * `<path>/val/<class>/*`). The validation classes are matched to the training classes by
 * name (a training class missing from val/ is fine; a val/ class unknown to training is
 * refused). `known`: a trained model's classes, to which both sets are matched instead.
 */
export async function openClassificationData(
  dataset: 'fashion-mnist' | 'imagefolder', path: string | undefined, trainSubset = 0, valSubset = 0, known?: KnownClasses,
): Promise<ClassificationData> {
  let train: ImageDataset;
  let val: ImageDataset;
  let classes: readonly string[];
  if (dataset === 'fashion-mnist') {
    const t = await FashionMnistDataset.open({ ...(path ? { root: path } : {}), split: 'train' });
    const v = await FashionMnistDataset.open({ ...(path ? { root: path } : {}), split: 'test' });
    const target = known ?? { names: t.classes, of: 'the training set' };
    train = known ? new ClassMappedDataset(t, t.classes, target, 'Fashion-MNIST') : t;
    val = new ClassMappedDataset(v, v.classes, target, 'Fashion-MNIST');
    classes = target.names;
  } else {
    if (!path) throw new Error('--dataset imagefolder needs --data-path <folder with train/ and val/>');
    const t = await ImageFolderDataset.open(joinPath(path, 'train'));
    const target = known ?? { names: t.classes, of: `the training set (${joinPath(path, 'train')})` };
    train = known ? new ClassMappedDataset(t, t.classes, target, `training folder ${t.root}`) : t;
    val = await openValidationFolder(joinPath(path, 'val'), target);
    classes = target.names;
  }
  return { train: new SubsetDataset(train, trainSubset), val: new SubsetDataset(val, valSubset), classes };
}

/** An image folder's images labeled by `known`'s class indices (matched by folder name). */
async function openValidationFolder(root: string, known: KnownClasses): Promise<ImageDataset> {
  const v = await ImageFolderDataset.open(root);
  return new ClassMappedDataset(v, v.classes, known, `validation folder ${root}`);
}

/**
 * The validation set alone, for evaluating a model whose classes are `known` (`imagefolder`:
 * only `<path>/val/` is read). Without `known` (a checkpoint that does not record them), the
 * training set's classes are used, as `openClassificationData` does. A flat folder of images
 * (`<path>/val/`, or `<path>` itself without a `val/`) is the ImageNet devkit layout, labeled by
 * its ground-truth list (`devkit`); its classes are the sorted wnids, the order of the class
 * folders of `train/`, so no `train/` is needed there either.
 */
export async function openValidationData(
  dataset: 'fashion-mnist' | 'imagefolder', path: string | undefined, valSubset = 0, known?: KnownClasses, devkit: Omit<ImagenetValOptions, 'decoder'> = {},
): Promise<{ val: ImageDataset; classes: readonly string[] }> {
  if (dataset === 'imagefolder') {
    if (!path) throw new Error('--dataset imagefolder needs --data-path <folder with val/>');
    const valDir = (await nodeFileStore.stat(joinPath(path, 'val')))?.isDirectory ? joinPath(path, 'val') : path;
    if (await isFlatImageFolder(valDir)) {
      const v = await ImagenetValDataset.open(valDir, devkit);
      const val = known ? new ClassMappedDataset(v, v.classes, known, `validation folder ${valDir} (${v.labelsFile})`) : v;
      return { val: new SubsetDataset(val, valSubset), classes: known ? known.names : v.classes };
    }
    if (known) return { val: new SubsetDataset(await openValidationFolder(joinPath(path, 'val'), known), valSubset), classes: known.names };
  }
  const data = await openClassificationData(dataset, path, 1, valSubset, known);
  return { val: data.val, classes: data.classes };
}

/** Dataset indices of the first `perClass` items of each class, in dataset order (the original's `--images-per-class`). */
export function firstImagesPerClass(labels: Int32Array, perClass: number): Int32Array {
  return imagesPerClassAfter(labels, 0, perClass);
}

/**
 * Dataset indices of the `perClass` items of each class that follow its first `skip` ones, in
 * dataset order. `finetune-p --p-grid` holds out `imagesPerClassAfter(labels, N, N)`: the next N
 * training images of each class after the N that p-finetuning tunes on (the original has no
 * held-out split; its validation set is the test set of the paper's tables).
 */
export function imagesPerClassAfter(labels: Int32Array, skip: number, perClass: number): Int32Array {
  if (!Number.isInteger(perClass) || perClass < 1) throw new Error(`images per class must be a positive integer, got ${perClass}`);
  if (!Number.isInteger(skip) || skip < 0) throw new Error(`images skipped per class must be a non-negative integer, got ${skip}`);
  const seen = new Map<number, number>();
  const out: number[] = [];
  labels.forEach((label, i) => {
    if (label < 0) return;
    const n = seen.get(label) ?? 0;
    if (n >= skip && n < skip + perClass) out.push(i);
    seen.set(label, n + 1);
  });
  return Int32Array.from(out);
}

/**
 * The first `perClass` images of each class, in an order shuffled with `seed`: what p-finetuning
 * walks, so that each step mixes classes (taken in dataset order, a step of 4 images holds one
 * class and the last classes get the decayed learning rate; the original shuffles).
 */
export function shuffledImagesPerClass(labels: Int32Array, perClass: number, seed: number): Int32Array {
  return new DataRng(seed).shuffle(firstImagesPerClass(labels, perClass));
}
