/**
 * A dataset over files a page was given: an `<input type=file webkitdirectory>` FileList, a
 * `File[]`, or dropped files. Their relative paths give the classes as an image folder does:
 * `root/<class>/.../<image>` labels the image with `<class>`; a flat list (names only, or all in
 * one folder) is unlabeled (label -1), e.g. a search gallery. Works in Node too (any object
 * with a name and `arrayBuffer()`); images are decoded in the calling thread with the given or
 * the platform's decoder.
 */
import type { ImageDecoder } from '../decode.js';
import { defaultImageDecoder } from '../decode-default.js';
import { compareCodePoints, hasExtension, IMAGE_EXTENSIONS, type ImageSample } from './common.js';
import type { Dataset } from './dataset.js';

/** What the dataset needs of a file: a `File` is one. */
export interface FileLike {
  name: string;
  /** 'root/class/image.jpg' for files of a picked folder (empty for loose files). */
  webkitRelativePath?: string;
  /** The path of a dropped file (e.g. a FileSystemEntry's fullPath), used where webkitRelativePath is empty. */
  relativePath?: string;
  arrayBuffer(): Promise<ArrayBuffer>;
}

export interface FileListDatasetOptions {
  /**
   * Only files under this sub-folder of the picked folder (e.g. 'train' for
   * `root/train/<class>/<image>`); their class is the folder below it.
   */
  under?: string;
  /** Known class names (label order), e.g. the training set's for a validation set: classes are matched by name. */
  classes?: readonly string[];
  /** Decoder (default: the browser's codecs in a page, sharp in Node). */
  decoder?: ImageDecoder;
  /** Apply the EXIF orientation (default false: the stored pixels, as the rest of the pipeline). */
  exifOrientation?: boolean;
  /** Accepted file extensions (default: the image folder's). */
  extensions?: readonly string[];
}

/** The path segments of a file below the picked folder's name ('root/a/b.jpg' -> ['a', 'b.jpg']; a loose file -> [name]). */
function segmentsOf(file: FileLike): string[] {
  const path = (file.webkitRelativePath || file.relativePath || file.name).replace(/^\/+/, '');
  const parts = path.split('/').filter((p) => p !== '');
  return parts.length > 1 ? parts.slice(1) : parts;
}

/** Images of a FileList / File[] / dropped files, labeled by their class folder or unlabeled. */
export class FileListDataset implements Dataset {
  readonly labels: Int32Array;
  /** Class names in label order (empty when unlabeled). */
  readonly classes: readonly string[];
  /** Each item's path below the picked folder, in dataset order (sorted). */
  readonly paths: readonly string[];
  private readonly files: readonly FileLike[];
  private readonly decoder: ImageDecoder;
  private readonly exifOrientation: boolean;

  constructor(files: Iterable<FileLike> | ArrayLike<FileLike>, options: FileListDatasetOptions = {}) {
    const extensions = options.extensions ?? IMAGE_EXTENSIONS;
    const prefix = options.under ? options.under.split('/').filter((p) => p !== '') : [];
    let items = Array.from(files as ArrayLike<FileLike>, (file) => ({ file, parts: segmentsOf(file) }))
      .filter((it) => hasExtension(it.file.name, extensions))
      .filter((it) => prefix.every((p, i) => it.parts[i] === p))
      .map((it) => ({ file: it.file, parts: it.parts.slice(prefix.length) }));
    if (items.length === 0) throw new Error(`FileListDataset: no image files${options.under ? ` under ${options.under}/` : ''} (extensions ${extensions.join(', ')})`);
    // labeled when some image sits in a class folder; images loose beside the class folders are left out, as in an image folder
    const labeled = items.some((it) => it.parts.length >= 2);
    if (labeled) items = items.filter((it) => it.parts.length >= 2);
    items.sort((a, b) => compareCodePoints(a.parts.join('/'), b.parts.join('/')));
    const found = [...new Set(items.map((it) => (labeled ? it.parts[0]! : '')))].sort(compareCodePoints);
    const classes = labeled ? (options.classes ?? found) : [];
    if (labeled && options.classes) {
      const unknown = found.filter((c) => !options.classes!.includes(c));
      if (unknown.length > 0) throw new Error(`FileListDataset: class folder(s) ${unknown.map((c) => JSON.stringify(c)).join(', ')} are not among the known classes (${options.classes.length})`);
    }
    const index = new Map(classes.map((c, i) => [c, i] as [string, number]));
    this.files = items.map((it) => it.file);
    this.paths = items.map((it) => it.parts.join('/'));
    this.labels = Int32Array.from(items, (it) => (labeled ? index.get(it.parts[0]!)! : -1));
    this.classes = classes;
    this.decoder = options.decoder ?? defaultImageDecoder();
    this.exifOrientation = options.exifOrientation ?? false;
  }

  get length(): number {
    return this.files.length;
  }

  async get(i: number): Promise<ImageSample> {
    const file = this.files[i];
    if (!Number.isInteger(i) || file === undefined) throw new RangeError(`FileListDataset index ${i} out of range [0, ${this.files.length})`);
    const bytes = new Uint8Array(await file.arrayBuffer());
    const image = await this.decoder.decode(bytes, { name: this.paths[i]!, autoOrient: this.exifOrientation, allowTruncated: true });
    return { image, label: this.labels[i]!, index: i, path: this.paths[i]! };
  }
}
