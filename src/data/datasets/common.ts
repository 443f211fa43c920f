/**
 * Shared pieces of the datasets: the record/sample types, the {@link ImageDataset} and
 * {@link RetrievalDataset} interfaces, record loading (decode + fix-up rotation), and small
 * Node file-system helpers (imported lazily so that the browser bundle stays loadable).
 */
import type { RgbImage } from '../image.js';
import type { ImageDecoder } from '../decode.js';
import { defaultImageDecoder } from '../decode-default.js';
import { rotateImageClockwise } from '../transforms/geometry.js';
import { listDirEntries, pathKind } from '../../io/node-files.js';

export { pathKind };

/** Where a dataset item comes from: a file, or pixels already in memory. Plain data (can be posted to a worker). */
export interface ImageRecord {
  /** Image file path (Node) or URL (browser). */
  path?: string;
  /** In-memory pixels (e.g. Fashion-MNIST). */
  image?: RgbImage;
  /** Class label, -1 when the dataset has none. */
  label: number;
  /** Clockwise rotation in degrees (multiple of 90) applied after decoding. */
  rotate?: number;
  /**
   * Apply the EXIF orientation while decoding. Default false: the original's loader (PIL's
   * Image.open) reads the stored pixels, and its results and fix-up lists were made on them
   * (the loader's `exifOrientation` sets it for records that do not say).
   */
  autoOrient?: boolean;
}

/** A decoded dataset item. */
export interface ImageSample {
  image: RgbImage;
  label: number;
  /** Index in the dataset. */
  index: number;
  path?: string;
}

/** A random-access image dataset. */
export interface ImageDataset {
  /** Number of items. */
  readonly length: number;
  /** Class label of every item (-1 = none). */
  readonly labels: Int32Array;
  /** Where item i comes from (cheap, synchronous). */
  record(i: number): ImageRecord;
  /** Item i, decoded (and rotated where the dataset says so). */
  get(i: number): Promise<ImageSample>;
}

/** Ground truth of one query, as positions in the dataset's `database` list. */
export interface RetrievalTruth {
  /** Relevant database entries. */
  positives: number[];
  /** Entries removed from the ranking before scoring (e.g. the query itself). */
  ignore: number[];
}

/**
 * A retrieval benchmark: features are extracted for every dataset item; `queries` and
 * `database` list dataset indices; `groundTruth[q]` refers to positions in `database`.
 */
export interface RetrievalDataset extends ImageDataset {
  readonly queries: Int32Array;
  readonly database: Int32Array;
  readonly groundTruth: readonly RetrievalTruth[];
}

/**
 * Decodes a record and applies its rotation, as the original's PIL loader reads a file: the
 * stored pixels (EXIF orientation only where the record asks), and a truncated file decoded as
 * far as it goes with a warning (PIL's LOAD_TRUNCATED_IMAGES), so one cut file among 100k does
 * not stop a run.
 */
export async function loadRecord(record: ImageRecord, decoder: ImageDecoder): Promise<RgbImage> {
  let img: RgbImage;
  if (record.image) img = record.image;
  else if (record.path !== undefined) img = await decoder.decode(record.path, { autoOrient: record.autoOrient ?? false, allowTruncated: true });
  else throw new Error('loadRecord: record has neither a path nor an image');
  if (record.rotate) img = rotateImageClockwise(img, record.rotate);
  return img;
}

/** Base class: a list of records, decoded on `get`. */
export class RecordDataset implements ImageDataset {
  readonly labels: Int32Array;
  protected readonly records: readonly ImageRecord[];
  protected readonly decoder: ImageDecoder;

  constructor(records: readonly ImageRecord[], decoder?: ImageDecoder) {
    this.records = records;
    this.labels = Int32Array.from(records, (r) => r.label);
    this.decoder = decoder ?? defaultImageDecoder();
  }

  get length(): number {
    return this.records.length;
  }

  record(i: number): ImageRecord {
    const r = this.records[i];
    if (!Number.isInteger(i) || r === undefined) throw new RangeError(`dataset index ${i} out of range [0, ${this.records.length})`);
    return r;
  }

  async get(i: number): Promise<ImageSample> {
    const r = this.record(i);
    const image = await loadRecord(r, this.decoder);
    return r.path !== undefined ? { image, label: r.label, index: i, path: r.path } : { image, label: r.label, index: i };
  }
}

/** Image file extensions torchvision's ImageFolder accepts (lower case). */
export const IMAGE_EXTENSIONS: readonly string[] = ['.jpg', '.jpeg', '.png', '.ppm', '.bmp', '.pgm', '.tif', '.tiff', '.webp'];

/** True if `name` ends with one of `extensions` (case-insensitive). */
export function hasExtension(name: string, extensions: readonly string[] = IMAGE_EXTENSIONS): boolean {
  const lower = name.toLowerCase();
  return extensions.some((e) => lower.endsWith(e));
}

/** Joins path parts with '/'. */
export function joinPath(...parts: string[]): string {
  return parts.filter((p) => p !== '').join('/').replace(/\/{2,}/g, '/');
}

/** Directory part of a path ('.' when none). */
export function dirName(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '.' : i === 0 ? '/' : path.slice(0, i);
}

/** File name part of a path. */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** Sorted entry names of a directory, split into sub-directories and files (symlinks followed). */
export async function listDir(path: string): Promise<{ dirs: string[]; files: string[] }> {
  const { dirs, files } = await listDirEntries(path);
  dirs.sort(compareCodePoints);
  files.sort(compareCodePoints);
  return { dirs, files };
}

/** Python's string order (code points). */
export function compareCodePoints(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Image files under `dir`, recursively (sorted walk like os.walk + sorted), as paths. */
export async function walkImages(dir: string, extensions: readonly string[] = IMAGE_EXTENSIONS): Promise<string[]> {
  const out: string[] = [];
  const { dirs, files } = await listDir(dir);
  for (const f of files) if (hasExtension(f, extensions)) out.push(joinPath(dir, f));
  for (const d of dirs) out.push(...(await walkImages(joinPath(dir, d), extensions)));
  return out;
}

/** Throws a clear error unless `path` is an existing directory. */
export async function requireDir(path: string, who: string): Promise<void> {
  const kind = await pathKind(path);
  if (kind === null) throw new Error(`${who}: root folder not found: ${path}`);
  if (kind !== 'dir') throw new Error(`${who}: root is not a folder: ${path}`);
}

/** The integer id of a file named like `123456.jpg` or `ukbench00042.jpg` (last digit run), or null. */
export function fileNumber(path: string): number | null {
  const m = /(\d+)\.[^./]+$/.exec(baseName(path));
  return m ? Number(m[1]) : null;
}
