/**
 * Float stages of the pipelines, on planar CHW float32 images: `ToTensor` (uint8 HWC to
 * [0,1] CHW), PCA lighting noise, clamp and per-channel normalization, plus the ImageNet
 * constants of the original release.
 */
import type { ChwImage, RgbImage } from '../image.js';
import type { DataRng } from '../../util/rng.js';

/** ImageNet channel means (RGB). */
export const IMAGENET_MEAN: readonly [number, number, number] = [0.485, 0.456, 0.406];
/** ImageNet channel standard deviations (RGB). */
export const IMAGENET_STD: readonly [number, number, number] = [0.229, 0.224, 0.225];
/** ImageNet RGB PCA eigenvalues (AlexNet lighting noise). */
export const IMAGENET_PCA_EIGVAL: readonly [number, number, number] = [0.2175, 0.0188, 0.0045];
/** ImageNet RGB PCA eigenvectors, rows = R, G, B; column j = eigenvector j. */
export const IMAGENET_PCA_EIGVEC: readonly (readonly [number, number, number])[] = [
  [-0.5675, 0.7192, 0.4009],
  [-0.5808, -0.0045, -0.814],
  [-0.5836, -0.6948, 0.4203],
];

/** `ToTensor`: uint8 HWC RGB to float32 CHW in [0, 1]. */
export function rgbToChw(img: RgbImage): ChwImage {
  const { width, height, data } = img;
  const plane = width * height;
  const out = new Float32Array(plane * 3);
  const inv = 1 / 255;
  for (let p = 0, s = 0; p < plane; p++, s += 3) {
    out[p] = data[s]! * inv;
    out[plane + p] = data[s + 1]! * inv;
    out[2 * plane + p] = data[s + 2]! * inv;
  }
  return { channels: 3, height, width, data: out };
}

/** The per-channel offset of lighting noise for given alphas: sum_j eigvec[c][j] * alpha[j] * eigval[j]. */
export function lightingOffset(alpha: readonly number[], eigval = IMAGENET_PCA_EIGVAL, eigvec = IMAGENET_PCA_EIGVEC): [number, number, number] {
  const out: [number, number, number] = [0, 0, 0];
  for (let c = 0; c < 3; c++) {
    let s = 0;
    for (let j = 0; j < 3; j++) s += eigvec[c]![j]! * alpha[j]! * eigval[j]!;
    out[c] = s;
  }
  return out;
}

/**
 * PCA lighting noise of the MultiGrain release (in place): alpha ~ N(0, alphaStd) per
 * eigenvector, add the offset to each channel, then divide the image by (1 + alphaStd).
 * Returns the alphas drawn. alphaStd = 0 leaves the image untouched.
 */
export function applyLighting(img: ChwImage, rng: DataRng, alphaStd = 0.1): number[] {
  if (alphaStd === 0) return [0, 0, 0];
  const alpha = [rng.normal(0, alphaStd), rng.normal(0, alphaStd), rng.normal(0, alphaStd)];
  const off = lightingOffset(alpha);
  const plane = img.width * img.height;
  const inv = 1 / (1 + alphaStd);
  const d = img.data;
  for (let c = 0; c < 3; c++) {
    const o = off[c]!;
    for (let p = c * plane, e = (c + 1) * plane; p < e; p++) d[p] = (d[p]! + o) * inv;
  }
  return alpha;
}

/** Clamps every value to [lo, hi] (in place). */
export function clampChw(img: ChwImage, lo = 0, hi = 1): ChwImage {
  const d = img.data;
  for (let i = 0; i < d.length; i++) {
    const v = d[i]!;
    d[i] = v < lo ? lo : v > hi ? hi : v;
  }
  return img;
}

/** (x - mean[c]) / std[c] per channel (in place). */
export function normalizeChw(img: ChwImage, mean: readonly number[] = IMAGENET_MEAN, std: readonly number[] = IMAGENET_STD): ChwImage {
  const plane = img.width * img.height;
  const d = img.data;
  for (let c = 0; c < img.channels; c++) {
    const m = mean[c]!;
    const inv = 1 / std[c]!;
    for (let p = c * plane, e = (c + 1) * plane; p < e; p++) d[p] = (d[p]! - m) * inv;
  }
  return img;
}

/** Options of {@link rgbToNormalizedChw}. */
export interface FusedToTensorOptions {
  /** Per-channel offset added to v / 255 (e.g. the lighting offset). Default 0. */
  offset?: readonly number[];
  /** Multiplier applied after the offset (e.g. 1 / 1.1). Default 1. */
  scale?: number;
  /** Clamp to [0, 1] before normalizing. Default false. */
  clamp?: boolean;
  mean?: readonly number[];
  std?: readonly number[];
}

/**
 * One pass of `ToTensor` [+ offset, * scale, clamp] + normalize, the same arithmetic as
 * the separate stages (computed in double precision, stored once as float32).
 */
export function rgbToNormalizedChw(img: RgbImage, options: FusedToTensorOptions = {}): ChwImage {
  const { width, height, data } = img;
  const plane = width * height;
  const out = new Float32Array(plane * 3);
  const luts = normalizedChannelLuts(options);
  for (let c = 0; c < 3; c++) {
    const lut = luts[c]!;
    const o = c * plane;
    for (let p = 0, s = c; p < plane; p++, s += 3) out[o + p] = lut[data[s]!]!;
  }
  return { channels: 3, height, width, data: out };
}

/**
 * The 256 possible float outputs of each channel under {@link rgbToNormalizedChw}'s
 * arithmetic (double precision, stored once as float32): every fused uint8-to-tensor pass
 * uses these tables, so they all give the same values bit for bit.
 */
export function normalizedChannelLuts(options: FusedToTensorOptions = {}): [Float32Array, Float32Array, Float32Array] {
  const mean = options.mean ?? IMAGENET_MEAN;
  const std = options.std ?? IMAGENET_STD;
  const scale = options.scale ?? 1;
  const clamp = options.clamp ?? false;
  const luts: Float32Array[] = [];
  for (let c = 0; c < 3; c++) {
    const off = options.offset?.[c] ?? 0;
    const m = mean[c]!;
    const inv = 1 / std[c]!;
    const lut = new Float32Array(256);
    for (let v = 0; v < 256; v++) {
      let x = (v / 255 + off) * scale;
      if (clamp) x = x < 0 ? 0 : x > 1 ? 1 : x;
      lut[v] = (x - m) * inv;
    }
    luts.push(lut);
  }
  return luts as [Float32Array, Float32Array, Float32Array];
}
