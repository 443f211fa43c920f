/**
 * PIL `ImageOps` and `Image.transform` equivalents used by AutoAugment, on 8-bit RGB:
 * posterize, solarize, invert, autocontrast, equalize (per channel, PIL's algorithms),
 * and affine warps with PIL's pixel-center convention (nearest or PIL's a = -1 bicubic)
 * and a fill color outside the source.
 */
import type { RgbImage } from '../image.js';

function applyLut(img: RgbImage, luts: Uint8Array[]): RgbImage {
  const src = img.data;
  const out = new Uint8Array(src.length);
  for (let i = 0; i < src.length; i += 3) {
    out[i] = luts[0]![src[i]!]!;
    out[i + 1] = luts[1]![src[i + 1]!]!;
    out[i + 2] = luts[2]![src[i + 2]!]!;
  }
  return { width: img.width, height: img.height, data: out };
}

function sameLut(f: (v: number) => number): Uint8Array[] {
  const lut = new Uint8Array(256);
  for (let v = 0; v < 256; v++) lut[v] = f(v);
  return [lut, lut, lut];
}

/** Keeps the `bits` high bits of each channel (1..8). */
export function posterizeImage(img: RgbImage, bits: number): RgbImage {
  if (!Number.isInteger(bits) || bits < 0 || bits > 8) throw new Error(`posterizeImage: bits must be 0..8, got ${bits}`);
  const mask = ~((1 << (8 - bits)) - 1) & 0xff;
  return applyLut(img, sameLut((v) => v & mask));
}

/** Inverts values at or above `threshold`: v < t ? v : 255 - v. */
export function solarizeImage(img: RgbImage, threshold: number): RgbImage {
  return applyLut(img, sameLut((v) => (v < threshold ? v : 255 - v)));
}

/** 255 - v. */
export function invertImage(img: RgbImage): RgbImage {
  return applyLut(img, sameLut((v) => 255 - v));
}

function histograms(img: RgbImage): Uint32Array[] {
  const h = [new Uint32Array(256), new Uint32Array(256), new Uint32Array(256)];
  const d = img.data;
  for (let i = 0; i < d.length; i += 3) {
    h[0]![d[i]!]!++; h[1]![d[i + 1]!]!++; h[2]![d[i + 2]!]!++;
  }
  return h;
}

/** PIL `ImageOps.autocontrast(cutoff=0)`: per channel, stretch [min, max] to [0, 255]. */
export function autocontrastImage(img: RgbImage): RgbImage {
  const luts = histograms(img).map((h) => {
    const lut = new Uint8Array(256);
    let lo = 0;
    while (lo < 256 && h[lo] === 0) lo++;
    let hi = 255;
    while (hi >= 0 && h[hi] === 0) hi--;
    if (hi <= lo) {
      for (let v = 0; v < 256; v++) lut[v] = v;
    } else {
      const scale = 255 / (hi - lo);
      const offset = -lo * scale;
      for (let v = 0; v < 256; v++) {
        const x = Math.trunc(v * scale + offset);
        lut[v] = x < 0 ? 0 : x > 255 ? 255 : x;
      }
    }
    return lut;
  });
  return applyLut(img, luts);
}

/** PIL `ImageOps.equalize`: per-channel histogram equalization. */
export function equalizeImage(img: RgbImage): RgbImage {
  const luts = histograms(img).map((h) => {
    const lut = new Uint8Array(256);
    let total = 0;
    let last = 0;
    let nonzero = 0;
    for (let v = 0; v < 256; v++) {
      if (h[v]! > 0) { total += h[v]!; last = h[v]!; nonzero++; }
    }
    const step = Math.floor((total - last) / 255);
    if (nonzero <= 1 || step === 0) {
      for (let v = 0; v < 256; v++) lut[v] = v;
    } else {
      let n = Math.floor(step / 2);
      for (let v = 0; v < 256; v++) {
        lut[v] = Math.min(255, Math.floor(n / step));
        n += h[v]!;
      }
    }
    return lut;
  });
  return applyLut(img, luts);
}

/** Affine coefficients (a, b, c, d, e, f): output pixel (x, y) reads input (a x + b y + c, d x + e y + f). */
export type AffineCoefficients = readonly [number, number, number, number, number, number];

/** Resampling of {@link affineTransformImage}. */
export type AffineResample = 'nearest' | 'bicubic';

function cl(v: number, n: number): number {
  return v < 0 ? 0 : v >= n ? n - 1 : v;
}

function cubic(v1: number, v2: number, v3: number, v4: number, d: number): number {
  // PIL Geometry.c BICUBIC (a = -1).
  const p1 = v2;
  const p2 = -v1 + v3;
  const p3 = 2 * (v1 - v2) + v3 - v4;
  const p4 = -v1 + v2 - v3 + v4;
  return p1 + d * (p2 + d * (p3 + d * p4));
}

/**
 * PIL `Image.transform(size, AFFINE, coeffs, resample, fillcolor)`: same output size,
 * coordinates at pixel centers (x + 0.5), pixels whose source is outside get `fill`.
 */
export function affineTransformImage(img: RgbImage, coeffs: AffineCoefficients, resample: AffineResample, fill: readonly [number, number, number]): RgbImage {
  const { width: w, height: h, data: src } = img;
  const out = new Uint8Array(src.length);
  const [a, b, c, d, e, f] = coeffs;
  const stride = w * 3;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const xin = a * (x + 0.5) + b * (y + 0.5) + c;
      const yin = d * (x + 0.5) + e * (y + 0.5) + f;
      const o = (y * w + x) * 3;
      if (xin < 0 || yin < 0 || xin >= w || yin >= h) {
        out[o] = fill[0]; out[o + 1] = fill[1]; out[o + 2] = fill[2];
        continue;
      }
      if (resample === 'nearest') {
        const s = Math.floor(yin) * stride + Math.floor(xin) * 3;
        out[o] = src[s]!; out[o + 1] = src[s + 1]!; out[o + 2] = src[s + 2]!;
        continue;
      }
      const xs = xin - 0.5;
      const ys = yin - 0.5;
      const x0 = Math.floor(xs);
      const y0 = Math.floor(ys);
      const dx = xs - x0;
      const dy = ys - y0;
      const xa = cl(x0 - 1, w) * 3, xb = cl(x0, w) * 3, xc = cl(x0 + 1, w) * 3, xd = cl(x0 + 2, w) * 3;
      const ya = cl(y0 - 1, h) * stride, yb = cl(y0, h) * stride, yc = cl(y0 + 1, h) * stride, yd = cl(y0 + 2, h) * stride;
      for (let ch = 0; ch < 3; ch++) {
        const ra = cubic(src[ya + xa + ch]!, src[ya + xb + ch]!, src[ya + xc + ch]!, src[ya + xd + ch]!, dx);
        const rb = cubic(src[yb + xa + ch]!, src[yb + xb + ch]!, src[yb + xc + ch]!, src[yb + xd + ch]!, dx);
        const rc = cubic(src[yc + xa + ch]!, src[yc + xb + ch]!, src[yc + xc + ch]!, src[yc + xd + ch]!, dx);
        const rd = cubic(src[yd + xa + ch]!, src[yd + xb + ch]!, src[yd + xc + ch]!, src[yd + xd + ch]!, dx);
        const v = cubic(ra, rb, rc, rd, dy);
        out[o + ch] = v <= 0 ? 0 : v >= 255 ? 255 : v | 0;
      }
    }
  }
  return { width: w, height: h, data: out };
}

/**
 * PIL `Image.rotate(degrees)` (counter-clockwise, about the center, same canvas, nearest
 * neighbour), the uncovered corners filled with `fill`.
 */
export function rotateImageWithFill(img: RgbImage, degrees: number, fill: readonly [number, number, number]): RgbImage {
  const angle = -degrees * Math.PI / 180;
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const cx = img.width / 2;
  const cy = img.height / 2;
  // Matrix about the center, as PIL builds it.
  const a = cos, b = sin, d = -sin, e = cos;
  const c = a * -cx + b * -cy + cx;
  const f = d * -cx + e * -cy + cy;
  return affineTransformImage(img, [a, b, c, d, e, f], 'nearest', fill);
}
