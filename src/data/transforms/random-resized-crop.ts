/**
 * RandomResizedCrop with torchvision's semantics (>= 0.3): up to 10 attempts drawing an
 * area fraction uniformly in `scale` and a log-uniform aspect ratio in `ratio`; the first
 * box that fits is placed uniformly; otherwise the fallback is a center crop of the whole
 * image clamped to the ratio range. The box is then resized (antialiased bilinear) to
 * `size` x `size`.
 */
import type { RgbImage } from '../image.js';
import type { DataRng } from '../../util/rng.js';
import type { CropBox } from './geometry.js';
import { resizeImageBilinear, roundHalfEven } from './geometry.js';

/** Options of {@link randomResizedCrop}. */
export interface RandomResizedCropOptions {
  /** Area fraction range, default [0.08, 1]. */
  scale?: readonly [number, number];
  /** Aspect-ratio (w/h) range, default [3/4, 4/3]. */
  ratio?: readonly [number, number];
}

/** torchvision `RandomResizedCrop.get_params`: the crop box for an image of this size. */
export function randomResizedCropBox(width: number, height: number, rng: DataRng, options: RandomResizedCropOptions = {}): CropBox {
  const [smin, smax] = options.scale ?? [0.08, 1.0];
  const [rmin, rmax] = options.ratio ?? [3 / 4, 4 / 3];
  const area = width * height;
  const logLo = Math.log(rmin);
  const logHi = Math.log(rmax);
  for (let attempt = 0; attempt < 10; attempt++) {
    const targetArea = area * rng.uniform(smin, smax);
    const aspect = Math.exp(rng.uniform(logLo, logHi));
    const w = roundHalfEven(Math.sqrt(targetArea * aspect));
    const h = roundHalfEven(Math.sqrt(targetArea / aspect));
    if (w > 0 && h > 0 && w <= width && h <= height) {
      const top = rng.intInclusive(0, height - h);
      const left = rng.intInclusive(0, width - w);
      return { top, left, height: h, width: w };
    }
  }
  // Fallback: central crop of the whole image, aspect clamped to [rmin, rmax].
  const inRatio = width / height;
  let w: number, h: number;
  if (inRatio < rmin) {
    w = width;
    h = roundHalfEven(w / rmin);
  } else if (inRatio > rmax) {
    h = height;
    w = roundHalfEven(h * rmax);
  } else {
    w = width;
    h = height;
  }
  return { top: Math.floor((height - h) / 2), left: Math.floor((width - w) / 2), height: h, width: w };
}

/** Random crop (see {@link randomResizedCropBox}) resized to `size` x `size`. */
export function randomResizedCrop(img: RgbImage, size: number, rng: DataRng, options: RandomResizedCropOptions = {}): RgbImage {
  const box = randomResizedCropBox(img.width, img.height, rng, options);
  return resizeImageBilinear(img, size, size, box);
}
