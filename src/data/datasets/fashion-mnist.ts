/**
 * Fashion-MNIST from its IDX files (the project's built-in default data). Debian's
 * `dataset-fashion-mnist` package installs them, gzipped, in
 * /usr/share/datasets/fashion-mnist (`bash tools/setup.sh` installs the package).
 * Both `name` and `name.gz` are accepted. Images are 28x28 gray, served as RGB.
 */
import type { RgbImage } from '../image.js';
import { grayToRgb } from '../image.js';
import type { ImageDataset, ImageRecord, ImageSample } from './common.js';
import { joinPath, pathKind } from './common.js';
import { readFileBytes } from '../../io/node-files.js';

/** Where `dataset-fashion-mnist` installs the files. */
export const FASHION_MNIST_DEFAULT_ROOT = '/usr/share/datasets/fashion-mnist';

/** Class names, label order. */
export const FASHION_MNIST_CLASSES: readonly string[] = [
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
];

/** IDX magic numbers: unsigned-byte tensors of rank 1 (labels) and 3 (images). */
export const IDX_MAGIC_LABELS = 0x00000801;
export const IDX_MAGIC_IMAGES = 0x00000803;

/** A parsed IDX tensor of unsigned bytes. */
export interface IdxTensor {
  shape: number[];
  data: Uint8Array;
}

/**
 * Parses an unsigned-byte IDX file. `file` names it in errors; `expectedMagic` (e.g.
 * {@link IDX_MAGIC_IMAGES}) is checked when given.
 */
export function parseIdx(bytes: Uint8Array, file: string, expectedMagic?: number): IdxTensor {
  if (bytes.length < 4) throw new Error(`IDX file ${file} is truncated (${bytes.length} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  const hex = (m: number): string => `0x${m.toString(16).padStart(8, '0')}`;
  if (expectedMagic !== undefined && magic !== expectedMagic) {
    throw new Error(`IDX file ${file} has wrong magic number ${hex(magic)} (expected ${hex(expectedMagic)}); is it the right file, and un-corrupted?`);
  }
  if ((magic >>> 8) !== 0x08) {
    throw new Error(`IDX file ${file} has magic number ${hex(magic)}: not an unsigned-byte IDX file`);
  }
  const rank = magic & 0xff;
  if (rank < 1 || bytes.length < 4 + 4 * rank) throw new Error(`IDX file ${file} has a bad header (rank ${rank}, ${bytes.length} bytes)`);
  const shape: number[] = [];
  for (let i = 0; i < rank; i++) shape.push(view.getUint32(4 + 4 * i, false));
  const count = shape.reduce((a, b) => a * b, 1);
  const offset = 4 + 4 * rank;
  if (bytes.length - offset !== count) {
    throw new Error(`IDX file ${file} is truncated or has trailing data: shape [${shape.join(', ')}] needs ${count} bytes, found ${bytes.length - offset}`);
  }
  return { shape, data: bytes.subarray(offset) };
}

/** Inflates a gzip stream (DecompressionStream: Node >= 18 and browsers alike). */
async function gunzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

async function readMaybeGzipped(root: string, name: string): Promise<{ file: string; bytes: Uint8Array }> {
  const plain = joinPath(root, name);
  const gz = `${plain}.gz`;
  let file: string;
  if ((await pathKind(plain)) === 'file') file = plain;
  else if ((await pathKind(gz)) === 'file') file = gz;
  else {
    throw new Error(
      `Fashion-MNIST file not found: ${gz} (nor ${plain}). Install the data with \`bash tools/setup.sh\` ` +
      `or \`sudo apt-get install dataset-fashion-mnist\` (it installs ${FASHION_MNIST_DEFAULT_ROOT}), or pass the folder holding the IDX files as \`root\`.`,
    );
  }
  return { file, bytes: await readFileBytes(file) };
}

/** The IDX bytes of a file as stored: inflated when gzipped (told by its first two bytes). */
async function inflateIdx(file: string, raw: Uint8Array): Promise<Uint8Array> {
  if (raw.length < 2 || raw[0] !== 0x1f || raw[1] !== 0x8b) return raw;
  try {
    return await gunzip(raw);
  } catch (e) {
    throw new Error(`Fashion-MNIST file ${file} is a corrupt gzip stream: ${(e as Error).message}`);
  }
}

/** Fetches `<base><name>.gz` (or, missing, `<base><name>`): the files as a server offers them. */
async function fetchMaybeGzipped(base: string, name: string): Promise<{ file: string; bytes: Uint8Array }> {
  for (const file of [`${base}${name}.gz`, `${base}${name}`]) {
    const res = await fetch(file);
    if (res.ok) return { file, bytes: new Uint8Array(await res.arrayBuffer()) };
    if (res.status !== 404) throw new Error(`Fashion-MNIST file ${file}: HTTP ${res.status} ${res.statusText}`);
  }
  throw new Error(`Fashion-MNIST file not found at ${base}${name}.gz (nor without .gz)`);
}

function checkSplit(split: unknown = 'train'): 'train' | 'test' {
  if (split !== 'train' && split !== 'test') throw new Error(`Fashion-MNIST: split must be 'train' or 'test', got ${String(split)}`);
  return split;
}

/** Options of {@link FashionMnistDataset.open}. */
export interface FashionMnistOptions {
  /** Folder of the IDX files (default {@link FASHION_MNIST_DEFAULT_ROOT}). */
  root?: string;
  /** 'train' (60,000 images) or 'test' (10,000). Default 'train'. */
  split?: 'train' | 'test';
}

/** Fashion-MNIST, in memory. */
export class FashionMnistDataset implements ImageDataset {
  readonly classes = FASHION_MNIST_CLASSES;
  readonly width = 28;
  readonly height = 28;
  /** All images, N x 28 x 28 gray bytes. */
  readonly images: Uint8Array;
  readonly labels: Int32Array;
  readonly split: 'train' | 'test';

  private constructor(images: Uint8Array, labels: Int32Array, split: 'train' | 'test') {
    this.images = images;
    this.labels = labels;
    this.split = split;
  }

  /** Reads and checks the split's two IDX files. */
  static async open(options: FashionMnistOptions = {}): Promise<FashionMnistDataset> {
    const root = options.root ?? FASHION_MNIST_DEFAULT_ROOT;
    const split = checkSplit(options.split);
    const prefix = split === 'train' ? 'train' : 't10k';
    return FashionMnistDataset.fromIdxFiles(await readMaybeGzipped(root, `${prefix}-images-idx3-ubyte`), await readMaybeGzipped(root, `${prefix}-labels-idx1-ubyte`), split);
  }

  /**
   * Fetches the split's two IDX files from a URL folder (`base` ends with '/'; a page gets them
   * from `multigrain serve` at /data/fashion-mnist/), gzipped or not.
   */
  static async fetch(base: string, split: 'train' | 'test' = 'train'): Promise<FashionMnistDataset> {
    const prefix = checkSplit(split) === 'train' ? 'train' : 't10k';
    const [img, lab] = await Promise.all([fetchMaybeGzipped(base, `${prefix}-images-idx3-ubyte`), fetchMaybeGzipped(base, `${prefix}-labels-idx1-ubyte`)]);
    return FashionMnistDataset.fromIdxFiles(img, lab, split);
  }

  /** The dataset of an images and a labels IDX file (bytes as stored, gzipped or not), checked. */
  static async fromIdxFiles(imageFile: { file: string; bytes: Uint8Array }, labelFile: { file: string; bytes: Uint8Array }, split: 'train' | 'test'): Promise<FashionMnistDataset> {
    const images = parseIdx(await inflateIdx(imageFile.file, imageFile.bytes), imageFile.file, IDX_MAGIC_IMAGES);
    const labels = parseIdx(await inflateIdx(labelFile.file, labelFile.bytes), labelFile.file, IDX_MAGIC_LABELS);
    const img = imageFile;
    const lab = labelFile;
    if (images.shape[1] !== 28 || images.shape[2] !== 28) {
      throw new Error(`Fashion-MNIST file ${img.file}: images are ${images.shape.slice(1).join('x')}, expected 28x28`);
    }
    if (images.shape[0] !== labels.shape[0]) {
      throw new Error(`Fashion-MNIST: ${img.file} holds ${images.shape[0]} images but ${lab.file} holds ${labels.shape[0]} labels`);
    }
    const bad = labels.data.findIndex((l) => l > 9);
    if (bad >= 0) throw new Error(`Fashion-MNIST file ${lab.file}: label ${labels.data[bad]} at index ${bad} is not in 0..9`);
    return new FashionMnistDataset(images.data, Int32Array.from(labels.data), split);
  }

  get length(): number {
    return this.labels.length;
  }

  /** Image i as 784 gray bytes (a view). */
  gray(i: number): Uint8Array {
    this.check(i);
    return this.images.subarray(i * 784, (i + 1) * 784);
  }

  /** Image i as RGB (gray replicated). */
  rgb(i: number): RgbImage {
    return grayToRgb(28, 28, this.gray(i));
  }

  record(i: number): ImageRecord {
    return { image: this.rgb(i), label: this.labels[i]! };
  }

  async get(i: number): Promise<ImageSample> {
    return { image: this.rgb(i), label: this.labels[i]!, index: i };
  }

  private check(i: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.length) throw new RangeError(`Fashion-MNIST index ${i} out of range [0, ${this.length})`);
  }
}
