/**
 * Complete transform pipelines of MultiGrain (the original release's `transforms.py`), from a decoded
 * RGB image to a normalized CHW float image:
 *
 * - train recipes: "torch" (RRC, flip, normalize), "full" (RRC, flip, ColorJitter .3,
 *   ToTensor, PCA lighting /1.1, clamp, normalize), "senet" (as full with jitter .2),
 *   "AA" (RRC, flip, AutoAugment ImageNet policy, normalize);
 * - validation: "square" (resize the shorter side to int(s * 256/224), center crop s) and
 *   "rect" (resize the longest side to s, aspect kept, no crop).
 *
 * A {@link TransformSpec} is plain data, so worker threads can rebuild the same pipeline.
 */
import type { ChwImage, RgbImage } from '../image.js';
import type { DataRng } from '../../util/rng.js';
import { autoAugmentImageNet } from '../autoaugment.js';
import { colorJitterParams } from './color.js';
import type { CropBox } from './geometry.js';
import { centerCropImage, flipImageHorizontal, resizeImageBilinear } from './geometry.js';
import { jitterToNormalizedChw } from './jitter-to-tensor.js';
import { randomResizedCropBox } from './random-resized-crop.js';
import { IMAGENET_MEAN, IMAGENET_STD, lightingOffset, rgbToNormalizedChw } from './tensor.js';
import type { AugmentImageParams } from '../../util/augment-params.js';

/** Training augmentation recipes. */
export type TrainRecipe = 'torch' | 'full' | 'senet' | 'AA';
/** All training recipes. */
export const TRAIN_RECIPES: readonly TrainRecipe[] = ['torch', 'full', 'senet', 'AA'];
/** Validation modes. */
export type ValidationMode = 'square' | 'rect';

/** Serializable description of a pipeline. */
export type TransformSpec =
  | {
      kind: 'train'; recipe: TrainRecipe; size: number; mean?: readonly number[]; std?: readonly number[];
      /** RandomResizedCrop's range of the crop area as a fraction of the image (default [0.08, 1]). */
      cropScale?: readonly [number, number];
      /**
       * Let a decoder that can (the Node one) crop and resize while decoding, through
       * `decodeCropResized`: JPEGs go through TurboJPEG where it is installed (into a reused
       * buffer, then the PIL-exact resize: the same pixels as without this); other images
       * through libvips, whose crop box comes from the header's size before any pixel is
       * decoded, libjpeg stopping after the box's last row, and whose linear reduce of the box
       * is within about one level of PIL's on average. Default true; false keeps the
       * whole-image decode and the PIL-exact CPU resize everywhere.
       */
      cropOnDecode?: boolean;
    }
  | { kind: 'val'; mode: ValidationMode; size: number; mean?: readonly number[]; std?: readonly number[] };

/** A pipeline: decoded image in, normalized CHW float image out. Validation ignores `rng`. */
export type ImageTransform = (img: RgbImage, rng: DataRng) => ChwImage;

/** Horizontal flip with probability p. */
export function randomHorizontalFlip(img: RgbImage, rng: DataRng, p = 0.5): RgbImage {
  return rng.random() < p ? flipImageHorizontal(img) : img;
}

/** Output size (w, h) of resizing so that the shorter (or, `largest`, the longer) side is `size`, as MultiGrain's Resize. */
export function resizeTargetSize(width: number, height: number, size: number, largest = false): [number, number] {
  if ((height < width) === largest) return [size, Math.max(1, Math.floor((size * height) / width))];
  return [Math.max(1, Math.floor((size * width) / height)), size];
}

/** Validation "square": shorter side to int(size * 256 / 224), then center crop size x size. */
export function validationSquare(img: RgbImage, size: number): RgbImage {
  const [w, h] = resizeTargetSize(img.width, img.height, Math.floor((256 / 224) * size));
  return centerCropImage(resizeImageBilinear(img, w, h), size);
}

/** Validation "rect": longest side to `size`, aspect ratio kept, no crop. */
export function validationRect(img: RgbImage, size: number): RgbImage {
  const [w, h] = resizeTargetSize(img.width, img.height, size, true);
  return resizeImageBilinear(img, w, h);
}

/** The (width, height) a validation transform will output for an input of this size. */
export function validationOutputSize(mode: ValidationMode, width: number, height: number, size: number): [number, number] {
  return mode === 'square' ? [size, size] : resizeTargetSize(width, height, size, true);
}

/**
 * A training pipeline in two halves around the crop, so that a decoder can crop and resize
 * while decoding: `cropBox` draws RandomResizedCrop's box for the image size (the first
 * draws of the sample's generator), `finish` runs the rest on the `size` x `size` crop.
 */
export interface TrainPlan {
  size: number;
  cropBox(width: number, height: number, rng: DataRng): CropBox;
  finish(crop: RgbImage, rng: DataRng): ChwImage;
  /**
   * `finish` up to the colour stages, for the GPU augmentation: the same draws in the same
   * order, the uint8 crop and the flip, jitter and lighting drawn for it. The flip is left to the
   * GPU (`params.flip`), except before AutoAugment, whose operations see the flipped crop.
   */
  finishUint8(crop: RgbImage, rng: DataRng): { image: RgbImage; params: AugmentImageParams };
  /** The batch-wide constants of the colour stages (the GPU augmentation's options). */
  colour: TrainColourConstants;
}

/** What every image of a recipe shares in its colour stages. */
export interface TrainColourConstants {
  mean: readonly number[];
  std: readonly number[];
  /** Multiplier after the lighting offset. */
  scale: number;
  /** Clamp to [0, 1] before normalising. */
  clamp: boolean;
}

/** Builds the two halves of a training pipeline (see {@link TrainPlan}). */
export function makeTrainPlan(
  recipe: TrainRecipe, size: number, mean: readonly number[] = IMAGENET_MEAN, std: readonly number[] = IMAGENET_STD,
  cropScale: readonly [number, number] = [0.08, 1],
): TrainPlan {
  if (!TRAIN_RECIPES.includes(recipe)) throw new Error(`unknown augmentation recipe "${recipe}" (expected one of ${TRAIN_RECIPES.join(', ')})`);
  if (!(cropScale[0] > 0 && cropScale[0] <= cropScale[1] && cropScale[1] <= 1)) {
    throw new Error(`crop scale [${cropScale.join(', ')}] must satisfy 0 < min <= max <= 1`);
  }
  const scale: [number, number] = [cropScale[0], cropScale[1]];
  const jitter = recipe === 'full' ? 0.3 : recipe === 'senet' ? 0.2 : 0;
  const colour: TrainColourConstants = jitter === 0 ? { mean, std, scale: 1, clamp: false } : { mean, std, scale: 1 / 1.1, clamp: true };
  const finishUint8 = (crop: RgbImage, rng: DataRng): { image: RgbImage; params: AugmentImageParams } => {
    if (recipe === 'AA') return { image: autoAugmentImageNet(randomHorizontalFlip(crop, rng), rng), params: { order: [], factors: {} } };
    const flip = rng.random() < 0.5;
    if (jitter === 0) return { image: crop, params: { order: [], factors: {}, flip } };
    const { order, factors } = colorJitterParams(rng, { brightness: jitter, contrast: jitter, saturation: jitter });
    // Lighting: alpha ~ N(0, 0.1), its offset, then / 1.1 and the clamp (the colour constants).
    const alpha = [rng.normal(0, 0.1), rng.normal(0, 0.1), rng.normal(0, 0.1)];
    return { image: crop, params: { order, factors, offset: lightingOffset(alpha), flip } };
  };
  return {
    size,
    colour,
    cropBox: (width, height, rng) => randomResizedCropBox(width, height, rng, { scale }),
    finishUint8,
    finish: (crop, rng) => {
      const { image, params } = finishUint8(crop, rng);
      // ToTensor, lighting, clamp, normalize: one pass with the jitter.
      return jitterToNormalizedChw(params.flip ? flipImageHorizontal(image) : image, { order: [...params.order], factors: params.factors }, { ...colour, offset: params.offset });
    },
  };
}

/** Builds a training pipeline: RandomResizedCrop (PIL-exact CPU resize), then the plan's rest. */
export function makeTrainTransform(
  recipe: TrainRecipe, size: number, mean: readonly number[] = IMAGENET_MEAN, std: readonly number[] = IMAGENET_STD,
  cropScale: readonly [number, number] = [0.08, 1],
): ImageTransform {
  const plan = makeTrainPlan(recipe, size, mean, std, cropScale);
  return (img, rng) => plan.finish(resizeImageBilinear(img, size, size, plan.cropBox(img.width, img.height, rng)), rng);
}

/** Builds a validation pipeline. */
export function makeValidationTransform(mode: ValidationMode, size: number, mean: readonly number[] = IMAGENET_MEAN, std: readonly number[] = IMAGENET_STD): ImageTransform {
  if (mode !== 'square' && mode !== 'rect') throw new Error(`unknown validation mode "${String(mode)}" (expected square or rect)`);
  return (img) => rgbToNormalizedChw(mode === 'square' ? validationSquare(img, size) : validationRect(img, size), { mean, std });
}

/** The crop-while-decoding half of a train spec (see {@link TrainPlan}), or null (validation, or cropOnDecode: false). */
export function makeCropOnDecodePlan(spec: TransformSpec): TrainPlan | null {
  if (spec.kind !== 'train' || spec.cropOnDecode === false) return null;
  return makeTrainPlan(spec.recipe, spec.size, spec.mean, spec.std, spec.cropScale);
}

/** Builds the pipeline a spec describes. */
export function makeTransform(spec: TransformSpec): ImageTransform {
  if (!Number.isInteger(spec.size) || spec.size <= 0) throw new Error(`transform size must be a positive integer, got ${spec.size}`);
  return spec.kind === 'train'
    ? makeTrainTransform(spec.recipe, spec.size, spec.mean, spec.std, spec.cropScale)
    : makeValidationTransform(spec.mode, spec.size, spec.mean, spec.std);
}
