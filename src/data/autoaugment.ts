/**
 * AutoAugment ImageNet policy (Cubuk et al. 2019) as released by MultiGrain (the
 * DeepVoltaire variant, as the original release): one of 24 two-operation sub-policies is chosen
 * uniformly; each operation runs with its probability at a magnitude taken from a
 * 10-level table; gray fill (128, 128, 128). All randomness comes from the given DataRng.
 */
import type { RgbImage } from './image.js';
import type { DataRng } from '../util/rng.js';
import { adjustBrightness, adjustContrast, adjustSaturation, adjustSharpness } from './transforms/color.js';
import {
  affineTransformImage, autocontrastImage, equalizeImage, invertImage, posterizeImage, rotateImageWithFill, solarizeImage,
} from './transforms/pil-ops.js';

/** The 14 AutoAugment operations. */
export type AutoAugmentOp =
  | 'shearX' | 'shearY' | 'translateX' | 'translateY' | 'rotate' | 'color' | 'posterize' | 'solarize'
  | 'contrast' | 'sharpness' | 'brightness' | 'autocontrast' | 'equalize' | 'invert';

/** All operation names. */
export const AUTOAUGMENT_OPS: readonly AutoAugmentOp[] = [
  'shearX', 'shearY', 'translateX', 'translateY', 'rotate', 'color', 'posterize', 'solarize',
  'contrast', 'sharpness', 'brightness', 'autocontrast', 'equalize', 'invert',
];

function linspace(a: number, b: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => a + ((b - a) * i) / (n - 1));
}

/** Magnitude tables (index 0..9) of each operation, as in the release. */
export const AUTOAUGMENT_MAGNITUDES: Readonly<Record<AutoAugmentOp, readonly number[]>> = {
  shearX: linspace(0, 0.3, 10),
  shearY: linspace(0, 0.3, 10),
  translateX: linspace(0, 150 / 331, 10),
  translateY: linspace(0, 150 / 331, 10),
  rotate: linspace(0, 30, 10),
  color: linspace(0, 0.9, 10),
  posterize: linspace(8, 4, 10).map((v) => Math.round(v)),
  solarize: linspace(256, 0, 10),
  contrast: linspace(0, 0.9, 10),
  sharpness: linspace(0, 0.9, 10),
  brightness: linspace(0, 0.9, 10),
  autocontrast: new Array<number>(10).fill(0),
  equalize: new Array<number>(10).fill(0),
  invert: new Array<number>(10).fill(0),
};

/** One step of a sub-policy: run `op` at magnitude index `level` with probability `prob`. */
export interface AutoAugmentStep {
  op: AutoAugmentOp;
  level: number;
  prob: number;
}

const s = (op: AutoAugmentOp, level: number, prob: number): AutoAugmentStep => ({ op, level, prob });

/** The 24 ImageNet sub-policies of the release, duplicates (21-24) included. */
export const AUTOAUGMENT_IMAGENET_POLICY: readonly (readonly [AutoAugmentStep, AutoAugmentStep])[] = [
  [s('posterize', 8, 0.4), s('rotate', 9, 0.6)],
  [s('solarize', 5, 0.6), s('autocontrast', 5, 0.6)],
  [s('equalize', 8, 0.8), s('equalize', 3, 0.6)],
  [s('posterize', 7, 0.6), s('posterize', 6, 0.6)],
  [s('equalize', 7, 0.4), s('solarize', 4, 0.2)],
  [s('equalize', 4, 0.4), s('rotate', 8, 0.8)],
  [s('solarize', 3, 0.6), s('equalize', 7, 0.6)],
  [s('posterize', 5, 0.8), s('equalize', 2, 1.0)],
  [s('rotate', 3, 0.2), s('solarize', 8, 0.6)],
  [s('equalize', 8, 0.6), s('posterize', 6, 0.4)],
  [s('rotate', 8, 0.8), s('color', 0, 0.4)],
  [s('rotate', 9, 0.4), s('equalize', 2, 0.6)],
  [s('equalize', 7, 0.0), s('equalize', 8, 0.8)],
  [s('invert', 4, 0.6), s('equalize', 8, 1.0)],
  [s('color', 4, 0.6), s('contrast', 8, 1.0)],
  [s('rotate', 8, 0.8), s('color', 2, 1.0)],
  [s('color', 8, 0.8), s('solarize', 7, 0.8)],
  [s('sharpness', 7, 0.4), s('invert', 8, 0.6)],
  [s('shearX', 5, 0.6), s('equalize', 9, 1.0)],
  [s('color', 0, 0.4), s('equalize', 3, 0.6)],
  [s('equalize', 7, 0.4), s('solarize', 4, 0.2)],
  [s('solarize', 5, 0.6), s('autocontrast', 5, 0.6)],
  [s('invert', 4, 0.6), s('equalize', 8, 1.0)],
  [s('color', 4, 0.6), s('contrast', 8, 1.0)],
];

/** Gray fill of the geometric operations. */
export const AUTOAUGMENT_FILL: readonly [number, number, number] = [128, 128, 128];

/**
 * Applies one operation at a raw magnitude (not an index). `sign` (+1 / -1) is the random
 * direction of shear, translate and the enhance factors (1 + sign * magnitude); rotate is
 * always counter-clockwise by `magnitude` degrees, as in the release.
 */
export function applyAutoAugmentOp(img: RgbImage, op: AutoAugmentOp, magnitude: number, sign: 1 | -1 = 1,
  fill: readonly [number, number, number] = AUTOAUGMENT_FILL): RgbImage {
  switch (op) {
    case 'shearX': return affineTransformImage(img, [1, magnitude * sign, 0, 0, 1, 0], 'bicubic', fill);
    case 'shearY': return affineTransformImage(img, [1, 0, 0, magnitude * sign, 1, 0], 'bicubic', fill);
    case 'translateX': return affineTransformImage(img, [1, 0, magnitude * img.width * sign, 0, 1, 0], 'nearest', fill);
    case 'translateY': return affineTransformImage(img, [1, 0, 0, 0, 1, magnitude * img.height * sign], 'nearest', fill);
    case 'rotate': return rotateImageWithFill(img, magnitude, fill);
    case 'color': return adjustSaturation(img, 1 + magnitude * sign);
    case 'posterize': return posterizeImage(img, magnitude);
    case 'solarize': return solarizeImage(img, magnitude);
    case 'contrast': return adjustContrast(img, 1 + magnitude * sign);
    case 'sharpness': return adjustSharpness(img, 1 + magnitude * sign);
    case 'brightness': return adjustBrightness(img, 1 + magnitude * sign);
    case 'autocontrast': return autocontrastImage(img);
    case 'equalize': return equalizeImage(img);
    case 'invert': return invertImage(img);
  }
}

/** Runs one sub-policy: each step fires with its probability. */
export function applyAutoAugmentSubPolicy(img: RgbImage, steps: readonly AutoAugmentStep[], rng: DataRng): RgbImage {
  let out = img;
  for (const step of steps) {
    if (rng.random() < step.prob) {
      const sign: 1 | -1 = rng.random() < 0.5 ? -1 : 1;
      out = applyAutoAugmentOp(out, step.op, AUTOAUGMENT_MAGNITUDES[step.op][step.level]!, sign);
    }
  }
  return out;
}

/** ImageNetPolicy: a uniformly chosen sub-policy of {@link AUTOAUGMENT_IMAGENET_POLICY}. */
export function autoAugmentImageNet(img: RgbImage, rng: DataRng): RgbImage {
  const policy = AUTOAUGMENT_IMAGENET_POLICY[rng.int(AUTOAUGMENT_IMAGENET_POLICY.length)]!;
  return applyAutoAugmentSubPolicy(img, policy, rng);
}
