/**
 * `classifyImages`: the top-k classes of images with their probabilities, as `multigrain
 * classify` prints them and a page shows them: decode, the evaluation transform, forward,
 * softmax over the logits (on the host, in float64), the k most probable class names.
 */
import { tensor, tidy, noGrad, keep, type Tensor } from '../engine/index.js';
import { defaultImageDecoder, makeValidationTransform, type ChwImage, type ImageDecoder, type RgbImage, type ValidationMode } from '../data/index.js';
import { byteSourceName, readByteSource, type ByteSource } from '../io/index.js';
import { DataRng } from '../util/rng.js';

/** An image to classify: decoded pixels, or an encoded file (bytes, Blob/File, URL, path). */
export type ClassifyInput = RgbImage | ByteSource;

/** One class of an image's top-k. */
export interface ClassScore {
  /** Class index (logit column). */
  label: number;
  /** Its name (`class <label>` when the model's class names are unknown). */
  name: string;
  /** Softmax probability in [0, 1]. */
  probability: number;
}

/** The top-k of one image. */
export interface ImageClassification {
  /** The image as messages name it (path, URL, File name, or `image <i>` for pixels). */
  image: string;
  /** The k most probable classes, most probable first. */
  top: ClassScore[];
}

export interface ClassifyOptions {
  /** Class names in label order (default: `class <i>`). */
  classes?: readonly string[];
  /** Classes per image (default 5; at most the number of classes). */
  top?: number;
  /** Evaluation size (default 224): square = shorter side int(s * 256/224) then center crop s; rect = longest side s. */
  inputSize?: number;
  /** Evaluation crop (default square, the trainer's validation transform). */
  crop?: ValidationMode;
  /** Apply the EXIF orientation while decoding (default false: the stored pixels, as the rest of the pipeline). */
  exifOrientation?: boolean;
  /** Decoder of encoded inputs (default: sharp in Node, the browser codecs in a page). */
  decoder?: ImageDecoder;
}

/** A model whose forward gives logits (MultiGrain, or a model of your own). */
export interface ClassifyingModel {
  forward(x: Tensor): { logits: Tensor };
  eval(): unknown;
}

/** The evaluation scale a training checkpoint's metadata records (`meta.options`), else 224 px square. */
export function classificationScale(meta: unknown): { inputSize: number; crop: ValidationMode } {
  const o = (meta as { options?: { inputSize?: unknown; valMode?: unknown } } | null)?.options;
  const inputSize = typeof o?.inputSize === 'number' && Number.isInteger(o.inputSize) && o.inputSize > 0 ? o.inputSize : 224;
  const crop: ValidationMode = o?.valMode === 'rect' ? 'rect' : 'square';
  return { inputSize, crop };
}

/** Numerically stable softmax of one row, in float64. */
export function softmax(logits: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]!);
  const out = Float64Array.from(logits, (v) => Math.exp(v - max));
  const sum = out.reduce((a, b) => a + b, 0);
  return out.map((v) => v / sum);
}

/** The k largest probabilities with their labels and names, largest first (ties: lower label first). */
export function topClasses(probabilities: Float64Array, k: number, classes?: readonly string[]): ClassScore[] {
  const order = Array.from(probabilities.keys()).sort((a, b) => probabilities[b]! - probabilities[a]! || a - b);
  return order.slice(0, k).map((label) => ({ label, name: classes?.[label] ?? `class ${label}`, probability: probabilities[label]! }));
}

function isRgbImage(input: ClassifyInput): input is RgbImage {
  const o = input as Partial<RgbImage>;
  return typeof o === 'object' && o !== null && o.data instanceof Uint8Array && typeof o.width === 'number' && typeof o.height === 'number';
}

/**
 * Classifies each image: its top-k classes with softmax probabilities. Images are run one at a
 * time (their sizes may differ in rect mode); the model is left in eval mode. Errors name the image.
 */
export async function classifyImages(model: ClassifyingModel, images: readonly ClassifyInput[], options: ClassifyOptions = {}): Promise<ImageClassification[]> {
  const size = options.inputSize ?? 224;
  const crop = options.crop ?? 'square';
  const k = options.top ?? 5;
  if (!Number.isInteger(k) || k < 1) throw new Error(`classifyImages: top must be a positive integer, got ${k}`);
  const transform = makeValidationTransform(crop, size);
  const decoder = options.decoder ?? defaultImageDecoder();
  model.eval();
  const out: ImageClassification[] = [];
  for (const [i, input] of images.entries()) {
    const name = isRgbImage(input) ? `image ${i}` : byteSourceName(input);
    const pixels = isRgbImage(input)
      ? input
      : await decoder.decode(await readByteSource(input), { name, autoOrient: options.exifOrientation ?? false });
    const image = transform(pixels, new DataRng(0));
    const logits = await forwardLogits(model, image).catch((e: Error) => {
      // rect keeps the aspect ratio: a wide photo at a small size gets a short side the trunk can't take
      throw new Error(
        `${name}: at ${crop} ${size} it becomes ${image.width}x${image.height}, which the model cannot take (${e.message}); ` +
          'use the square crop or a larger input size (--input-crop square, --input-size in the CLI)', { cause: e });
    });
    if (options.classes && options.classes.length !== logits.length) {
      throw new Error(`classifyImages: ${options.classes.length} class names for a model with ${logits.length} outputs`);
    }
    out.push({ image: name, top: topClasses(softmax(logits), Math.min(k, logits.length), options.classes) });
  }
  return out;
}

/** The logits of one CHW image (no autograd). */
async function forwardLogits(model: ClassifyingModel, image: ChwImage): Promise<Float32Array> {
  const logits: Tensor = tidy(() => noGrad(() => keep(model.forward(tensor(image.data, [1, 3, image.height, image.width])).logits)));
  try {
    return (await logits.toArray()) as Float32Array;
  } finally {
    logits.dispose();
  }
}
