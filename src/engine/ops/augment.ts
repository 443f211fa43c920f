/**
 * The training batch's colour augmentation on the GPU: uint8 crops in (a quarter of the f32
 * upload), the normalised f32 NCHW batch out, with each image's colour jitter and lighting.
 * Same arithmetic as the CPU path (src/data/transforms/jitter-to-tensor.ts) in f32.
 */
import { empty, shapeString, type Tensor } from '../tensor.js';
import { checkDtype } from '../checks.js';
import { dispatchAugment } from '../kernels/data/augment.js';
import { AUGMENT_PARAMS_PER_IMAGE } from '../../util/augment-params.js';

/** The batch-wide options of {@link augmentImages} (the per-image draws are in `params`). */
export interface AugmentImagesOptions {
  /** Per-channel mean and standard deviation of the normalisation. */
  mean: readonly number[];
  std: readonly number[];
  /** Multiplier after the lighting offset (the recipe's 1 / 1.1), default 1. */
  scale?: number;
  /** Clamp to [0, 1] before normalising, default false. */
  clamp?: boolean;
}

/**
 * f32 [N, 3, H, W] from `pixels`, u32 [ceil(N·H·W·3 / 4)] holding the bytes of a uint8
 * [N, H, W, 3] RGB batch (little-endian), and `params`, f32 [N, 8] (util/augment-params.ts:
 * jitter order and factors, lighting offset, horizontal flip). Not differentiable (data, not parameters).
 */
export function augmentImages(pixels: Tensor, params: Tensor, height: number, width: number, options: AugmentImagesOptions): Tensor {
  checkDtype('augmentImages', pixels, ['u32']);
  checkDtype('augmentImages', params, ['f32']);
  if (params.rank !== 2 || params.shape[1] !== AUGMENT_PARAMS_PER_IMAGE) {
    throw new Error(`augmentImages: params must be [N, ${AUGMENT_PARAMS_PER_IMAGE}], got ${shapeString(params.shape)}`);
  }
  const n = params.shape[0]!;
  if (!Number.isInteger(height) || !Number.isInteger(width) || height <= 0 || width <= 0) throw new Error(`augmentImages: bad image size ${width}x${height}`);
  const words = Math.ceil((n * height * width * 3) / 4);
  if (pixels.rank !== 1 || pixels.size !== words) {
    throw new Error(`augmentImages: pixels must be u32 [${words}] (${n} images of ${width}x${height}x3 bytes), got ${shapeString(pixels.shape)}`);
  }
  // The in-kernel luma sum is a u32: 2 · 255 · H · W must stay below 2^32.
  if (height * width > 8_000_000) throw new Error(`augmentImages: ${width}x${height} images are above the kernel's 8M pixels`);
  if (options.mean.length !== 3 || options.std.length !== 3) throw new Error('augmentImages: mean and std need 3 values each');
  const out = empty([n, 3, height, width]);
  if (n > 0) dispatchAugment(pixels, params, out, n, { plane: height * width, width, scale: options.scale ?? 1, clamp: options.clamp ?? false, mean: options.mean, std: options.std });
  return out;
}

/** The u32 words holding `bytes` (padded with zeros to a multiple of 4), for {@link augmentImages}' pixels. */
export function packBytes(bytes: Uint8Array): Uint32Array {
  const words = new Uint32Array(Math.ceil(bytes.length / 4));
  new Uint8Array(words.buffer).set(bytes);
  return words;
}
