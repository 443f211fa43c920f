/**
 * PIL `ImageEnhance`-style color operations on 8-bit RGB, as torchvision applies them to
 * PIL images: each blends the image with a "degenerate" version,
 * `out = clip(trunc(degenerate + factor * (img - degenerate)))`:
 * brightness (degenerate = black), contrast (uniform gray at the rounded mean luma),
 * saturation / "Color" (the luma image), sharpness (the 3x3 SMOOTH-filtered image).
 * Luma is PIL's `convert("L")`: (19595 R + 38470 G + 7471 B + 32768) >> 16.
 */
import type { RgbImage } from '../image.js';
import type { DataRng } from '../../util/rng.js';

/** PIL luma (`convert("L")`) of one pixel. */
export function pilLuma(r: number, g: number, b: number): number {
  return (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16;
}

function clip8(v: number): number {
  return v <= 0 ? 0 : v >= 255 ? 255 : v | 0;
}

/** Brightness factor f: out = f * img (0 = black, 1 = unchanged). */
export function adjustBrightness(img: RgbImage, factor: number): RgbImage {
  const src = img.data;
  const out = new Uint8Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = clip8(factor * src[i]!);
  return { width: img.width, height: img.height, data: out };
}

/** Mean luma rounded like PIL's `int(mean + 0.5)`. */
export function meanLuma(img: RgbImage): number {
  const d = img.data;
  let sum = 0;
  for (let i = 0; i < d.length; i += 3) sum += pilLuma(d[i]!, d[i + 1]!, d[i + 2]!);
  return Math.floor(sum / (d.length / 3) + 0.5);
}

/** Contrast factor f: blend with uniform gray at the mean luma (0 = flat gray). */
export function adjustContrast(img: RgbImage, factor: number): RgbImage {
  const m = meanLuma(img);
  const src = img.data;
  const out = new Uint8Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = clip8(m + factor * (src[i]! - m));
  return { width: img.width, height: img.height, data: out };
}

/** Saturation (PIL "Color") factor f: blend with the luma image (0 = grayscale). */
export function adjustSaturation(img: RgbImage, factor: number): RgbImage {
  const src = img.data;
  const out = new Uint8Array(src.length);
  for (let i = 0; i < src.length; i += 3) {
    const l = pilLuma(src[i]!, src[i + 1]!, src[i + 2]!);
    out[i] = clip8(l + factor * (src[i]! - l));
    out[i + 1] = clip8(l + factor * (src[i + 1]! - l));
    out[i + 2] = clip8(l + factor * (src[i + 2]! - l));
  }
  return { width: img.width, height: img.height, data: out };
}

/** PIL `ImageFilter.SMOOTH` (3x3 kernel 1 1 1 / 1 5 1 / 1 1 1, divided by 13); border pixels kept. */
export function smoothImage(img: RgbImage): RgbImage {
  const { width: w, height: h, data: src } = img;
  const out = src.slice();
  const stride = w * 3;
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      const p = y * stride + x * 3;
      for (let c = 0; c < 3; c++) {
        const q = p + c;
        const s = src[q - stride - 3]! + src[q - stride]! + src[q - stride + 3]! +
          src[q - 3]! + 5 * src[q]! + src[q + 3]! +
          src[q + stride - 3]! + src[q + stride]! + src[q + stride + 3]!;
        out[q] = clip8(s / 13 + 0.5);
      }
    }
  }
  return { width: w, height: h, data: out };
}

/** Sharpness factor f: blend with the smoothed image (0 = smoothed, 2 = sharpened). */
export function adjustSharpness(img: RgbImage, factor: number): RgbImage {
  const deg = smoothImage(img).data;
  const src = img.data;
  const out = new Uint8Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = clip8(deg[i]! + factor * (src[i]! - deg[i]!));
  return { width: img.width, height: img.height, data: out };
}

/** Options of {@link colorJitter}: each strength s draws a factor uniformly in [max(0, 1-s), 1+s]. */
export interface ColorJitterOptions {
  brightness?: number;
  contrast?: number;
  saturation?: number;
}

/** The factors and order {@link colorJitter} drew (for tests and logging). */
export interface ColorJitterParams {
  /** Operations in the order they are applied. */
  order: ('brightness' | 'contrast' | 'saturation')[];
  factors: { brightness?: number; contrast?: number; saturation?: number };
}

/** torchvision `ColorJitter.get_params`: factors drawn in fixed order, then the order shuffled. */
export function colorJitterParams(rng: DataRng, options: ColorJitterOptions): ColorJitterParams {
  const order: ColorJitterParams['order'] = [];
  const factors: ColorJitterParams['factors'] = {};
  for (const k of ['brightness', 'contrast', 'saturation'] as const) {
    const s = options[k] ?? 0;
    if (s > 0) {
      factors[k] = rng.uniform(Math.max(0, 1 - s), 1 + s);
      order.push(k);
    }
  }
  rng.shuffle(order);
  return { order, factors };
}

/** Applies drawn jitter parameters. */
export function applyColorJitter(img: RgbImage, params: ColorJitterParams): RgbImage {
  let out = img;
  for (const k of params.order) {
    const f = params.factors[k]!;
    if (k === 'brightness') out = adjustBrightness(out, f);
    else if (k === 'contrast') out = adjustContrast(out, f);
    else out = adjustSaturation(out, f);
  }
  return out;
}

/**
 * ColorJitter (brightness, contrast, saturation; no hue), torchvision semantics: random
 * factors, applied in a random order (torchvision shuffles the order too).
 */
export function colorJitter(img: RgbImage, rng: DataRng, options: ColorJitterOptions): RgbImage {
  return applyColorJitter(img, colorJitterParams(rng, options));
}
