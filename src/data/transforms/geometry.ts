/**
 * Geometric operations on 8-bit RGB images: crop, flips, quarter turns and a PIL-style
 * antialiased bilinear resize (the `Image.BILINEAR` resampling torchvision uses for PIL
 * images: a triangle filter whose support widens by the downscale factor).
 */
import type { RgbImage } from '../image.js';
import { uninitializedBuffer } from '../../util/uninitialized.js';

/** Python 3 `round()`: half to even. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** A rectangle of pixels: top row, left column, height, width (torchvision's i, j, h, w). */
export interface CropBox {
  top: number;
  left: number;
  height: number;
  width: number;
}

function checkBox(img: RgbImage, box: CropBox, who: string): void {
  const { top, left, height, width } = box;
  if (![top, left, height, width].every(Number.isInteger) || height <= 0 || width <= 0 || top < 0 || left < 0 ||
      top + height > img.height || left + width > img.width) {
    throw new Error(`${who}: box ${JSON.stringify(box)} is not inside the ${img.width}x${img.height} image`);
  }
}

/** Copies the pixels of `box` (which must lie inside the image). */
export function cropImage(img: RgbImage, box: CropBox): RgbImage {
  checkBox(img, box, 'cropImage');
  const out = new Uint8Array(box.width * box.height * 3);
  const rowBytes = box.width * 3;
  for (let y = 0; y < box.height; y++) {
    const s = ((box.top + y) * img.width + box.left) * 3;
    out.set(img.data.subarray(s, s + rowBytes), y * rowBytes);
  }
  return { width: box.width, height: box.height, data: out };
}

/** The centered `height` x `width` box, offsets rounded like torchvision's CenterCrop. */
export function centerCropBox(imgWidth: number, imgHeight: number, width: number, height: number): CropBox {
  if (width > imgWidth || height > imgHeight) {
    throw new Error(`centerCropBox: ${width}x${height} crop does not fit a ${imgWidth}x${imgHeight} image`);
  }
  return {
    top: roundHalfEven((imgHeight - height) / 2),
    left: roundHalfEven((imgWidth - width) / 2),
    height,
    width,
  };
}

/** Center crop to `width` x `height` (default square `width`). */
export function centerCropImage(img: RgbImage, width: number, height = width): RgbImage {
  return cropImage(img, centerCropBox(img.width, img.height, width, height));
}

/** Mirror left-right (new image). */
export function flipImageHorizontal(img: RgbImage): RgbImage {
  const { width, height, data } = img;
  const out = new Uint8Array(data.length);
  for (let y = 0; y < height; y++) {
    const row = y * width * 3;
    for (let x = 0; x < width; x++) {
      const s = row + x * 3;
      const d = row + (width - 1 - x) * 3;
      out[d] = data[s]!; out[d + 1] = data[s + 1]!; out[d + 2] = data[s + 2]!;
    }
  }
  return { width, height, data: out };
}

/** Mirror top-bottom (new image). */
export function flipImageVertical(img: RgbImage): RgbImage {
  const { width, height, data } = img;
  const out = new Uint8Array(data.length);
  const rowBytes = width * 3;
  for (let y = 0; y < height; y++) out.set(data.subarray(y * rowBytes, (y + 1) * rowBytes), (height - 1 - y) * rowBytes);
  return { width, height, data: out };
}

/**
 * Rotates clockwise by `degrees` (a multiple of 90), the canvas growing to fit (PIL's
 * `rotate(-degrees, expand=True)`, which the INRIA Holidays fix-up list expects).
 */
export function rotateImageClockwise(img: RgbImage, degrees: number): RgbImage {
  const turns = (((Math.round(degrees / 90) % 4) + 4) % 4);
  if (degrees % 90 !== 0) throw new Error(`rotateImageClockwise: ${degrees} is not a multiple of 90`);
  if (turns === 0) return { width: img.width, height: img.height, data: img.data.slice() };
  const { width: w, height: h, data } = img;
  const ow = turns === 2 ? w : h;
  const oh = turns === 2 ? h : w;
  const out = new Uint8Array(data.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let ox: number, oy: number;
      if (turns === 1) { ox = h - 1 - y; oy = x; }
      else if (turns === 2) { ox = w - 1 - x; oy = h - 1 - y; }
      else { ox = y; oy = w - 1 - x; }
      const s = (y * w + x) * 3;
      const d = (oy * ow + ox) * 3;
      out[d] = data[s]!; out[d + 1] = data[s + 1]!; out[d + 2] = data[s + 2]!;
    }
  }
  return { width: ow, height: oh, data: out };
}

/** PIL's fixed-point precision of the 8-bit resampling (Resample.c: 32 - 8 - 2 bits). */
const PRECISION_BITS = 22;

/** Resampling weights along one axis: output k reads `count[k]` inputs from `start[k]`, with the fixed-point weights at `k · taps`. */
interface AxisCoefficients {
  start: Int32Array;
  count: Int32Array;
  taps: number;
  weights: Int32Array;
}

/**
 * PIL's `precompute_coeffs` for the bilinear (triangle) filter over an input of `size`
 * (support widened by the downscale factor: antialiasing), then `normalize_coeffs_8bpc`: the
 * same double arithmetic, so the same weights to the bit.
 */
function axisCoefficients(size: number, outSize: number): AxisCoefficients {
  const scale = size / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filterScale;
  const taps = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Int32Array(outSize * taps);
  const w = new Float64Array(taps);
  const ss = 1 / filterScale;
  for (let k = 0; k < outSize; k++) {
    const center = (k + 0.5) * scale;
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const n = Math.min(Math.trunc(center + support + 0.5), size) - xmin;
    let total = 0;
    for (let t = 0; t < n; t++) {
      const x = Math.abs((t + xmin - center + 0.5) * ss);
      w[t] = x < 1 ? 1 - x : 0;
      total += w[t]!;
    }
    for (let t = 0; t < n; t++) {
      const v = total !== 0 ? w[t]! / total : w[t]!;
      weights[k * taps + t] = Math.trunc(v < 0 ? -0.5 + v * (1 << PRECISION_BITS) : 0.5 + v * (1 << PRECISION_BITS));
    }
    start[k] = xmin;
    count[k] = n;
  }
  return { start, count, taps, weights };
}

let scratchArray = new Uint8Array(0);

/**
 * The resize's intermediate rows: one array per thread, grown as needed (every value is written
 * before it is read), so that a loader's worker does not allocate and fault in memory per crop;
 * above 16 MiB a fresh array, not kept.
 */
function scratch(length: number): Uint8Array {
  if (length > 16 << 20) return new Uint8Array(length);
  if (scratchArray.length < length) scratchArray = new Uint8Array(Math.max(length, 2 * scratchArray.length));
  return scratchArray.subarray(0, length);
}

// The passes store `sum >> PRECISION_BITS` without PIL's clip to [0, 255]: the bilinear weights
// are >= 0 and each output's fixed-point weights add up to at most 2^22 + taps / 2, so a sum of
// one half plus weighted bytes never leaves [0, 256 · 2^22).

/**
 * PIL's horizontal pass (ImagingResampleHorizontal_8bpc): `rows` rows of RGB bytes from byte
 * `at` of `src` (row stride `stride`, `width` pixels readable) to `outWidth` pixels each, into
 * `dst` (packed rows). Every column takes the same number of taps, the largest, the others padded
 * with zero weights (which add exact zeros): the common counts (2: upscales; 3, 4, 5: downscales
 * up to 2x) then run unrolled, without a branch per pixel that a mix of counts would mispredict.
 */
function horizontalPass(src: Uint8Array, stride: number, at: number, width: number, rows: number, cx: AxisCoefficients, outWidth: number, dst: Uint8Array): void {
  let n = 0;
  for (let x = 0; x < outWidth; x++) n = Math.max(n, cx.count[x]!);
  if (n > width) n = width; // a box narrower than the taps: counts are at most its width already
  // Per column: the first tap's byte offset in a row and the n weights.
  const offs = new Int32Array(outWidth);
  const w = new Int32Array(outWidth * n);
  for (let x = 0; x < outWidth; x++) {
    const first = Math.min(cx.start[x]!, width - n);
    offs[x] = first * 3;
    for (let t = 0; t < cx.count[x]!; t++) w[x * n + cx.start[x]! - first + t] = cx.weights[x * cx.taps + t]!;
  }
  const half = 1 << (PRECISION_BITS - 1);
  let d = 0;
  for (let y = 0; y < rows; y++) {
    const row = at + y * stride;
    if (n === 2) {
      for (let x = 0, k = 0; x < outWidth; x++, d += 3, k += 2) {
        const p = row + offs[x]!, w0 = w[k]!, w1 = w[k + 1]!;
        dst[d] = (half + src[p]! * w0 + src[p + 3]! * w1) >> PRECISION_BITS;
        dst[d + 1] = (half + src[p + 1]! * w0 + src[p + 4]! * w1) >> PRECISION_BITS;
        dst[d + 2] = (half + src[p + 2]! * w0 + src[p + 5]! * w1) >> PRECISION_BITS;
      }
    } else if (n === 3) {
      for (let x = 0, k = 0; x < outWidth; x++, d += 3, k += 3) {
        const p = row + offs[x]!, w0 = w[k]!, w1 = w[k + 1]!, w2 = w[k + 2]!;
        dst[d] = (half + src[p]! * w0 + src[p + 3]! * w1 + src[p + 6]! * w2) >> PRECISION_BITS;
        dst[d + 1] = (half + src[p + 1]! * w0 + src[p + 4]! * w1 + src[p + 7]! * w2) >> PRECISION_BITS;
        dst[d + 2] = (half + src[p + 2]! * w0 + src[p + 5]! * w1 + src[p + 8]! * w2) >> PRECISION_BITS;
      }
    } else if (n === 4) {
      for (let x = 0, k = 0; x < outWidth; x++, d += 3, k += 4) {
        const p = row + offs[x]!, w0 = w[k]!, w1 = w[k + 1]!, w2 = w[k + 2]!, w3 = w[k + 3]!;
        dst[d] = (half + src[p]! * w0 + src[p + 3]! * w1 + src[p + 6]! * w2 + src[p + 9]! * w3) >> PRECISION_BITS;
        dst[d + 1] = (half + src[p + 1]! * w0 + src[p + 4]! * w1 + src[p + 7]! * w2 + src[p + 10]! * w3) >> PRECISION_BITS;
        dst[d + 2] = (half + src[p + 2]! * w0 + src[p + 5]! * w1 + src[p + 8]! * w2 + src[p + 11]! * w3) >> PRECISION_BITS;
      }
    } else if (n === 5) {
      for (let x = 0, k = 0; x < outWidth; x++, d += 3, k += 5) {
        const p = row + offs[x]!, w0 = w[k]!, w1 = w[k + 1]!, w2 = w[k + 2]!, w3 = w[k + 3]!, w4 = w[k + 4]!;
        dst[d] = (half + src[p]! * w0 + src[p + 3]! * w1 + src[p + 6]! * w2 + src[p + 9]! * w3 + src[p + 12]! * w4) >> PRECISION_BITS;
        dst[d + 1] = (half + src[p + 1]! * w0 + src[p + 4]! * w1 + src[p + 7]! * w2 + src[p + 10]! * w3 + src[p + 13]! * w4) >> PRECISION_BITS;
        dst[d + 2] = (half + src[p + 2]! * w0 + src[p + 5]! * w1 + src[p + 8]! * w2 + src[p + 11]! * w3 + src[p + 14]! * w4) >> PRECISION_BITS;
      }
    } else {
      for (let x = 0, k = 0; x < outWidth; x++, d += 3, k += n) {
        let r = half, g = half, b = half;
        for (let t = 0, p = row + offs[x]!; t < n; t++, p += 3) {
          const wt = w[k + t]!;
          r += src[p]! * wt; g += src[p + 1]! * wt; b += src[p + 2]! * wt;
        }
        dst[d] = r >> PRECISION_BITS; dst[d + 1] = g >> PRECISION_BITS; dst[d + 2] = b >> PRECISION_BITS;
      }
    }
  }
}

/**
 * PIL's vertical pass (ImagingResampleVertical_8bpc): output row y sums the rows from
 * `start[y] - first` of `src` (from byte `at`, row stride `stride`; `outWidth` pixels used).
 */
function verticalPass(src: Uint8Array, stride: number, at: number, first: number, cy: AxisCoefficients, outWidth: number, outHeight: number, dst: Uint8Array): void {
  const { start, count, taps, weights } = cy;
  const half = 1 << (PRECISION_BITS - 1);
  const rowLen = outWidth * 3;
  for (let y = 0; y < outHeight; y++) {
    const b0 = at + (start[y]! - first) * stride, b1 = b0 + stride, b2 = b1 + stride, b3 = b2 + stride;
    const n = count[y]!;
    const k = y * taps;
    const o = y * rowLen;
    const w0 = weights[k]!, w1 = weights[k + 1]!, w2 = weights[k + 2]!, w3 = weights[k + 3] ?? 0;
    if (n === 2) {
      for (let i = 0; i < rowLen; i++) dst[o + i] = (half + src[b0 + i]! * w0 + src[b1 + i]! * w1) >> PRECISION_BITS;
    } else if (n === 3) {
      for (let i = 0; i < rowLen; i++) dst[o + i] = (half + src[b0 + i]! * w0 + src[b1 + i]! * w1 + src[b2 + i]! * w2) >> PRECISION_BITS;
    } else if (n === 4) {
      for (let i = 0; i < rowLen; i++) dst[o + i] = (half + src[b0 + i]! * w0 + src[b1 + i]! * w1 + src[b2 + i]! * w2 + src[b3 + i]! * w3) >> PRECISION_BITS;
    } else {
      for (let i = 0; i < rowLen; i++) {
        let s = half;
        for (let t = 0, p = b0 + i; t < n; t++, p += stride) s += src[p]! * weights[k + t]!;
        dst[o + i] = s >> PRECISION_BITS;
      }
    }
  }
}

/** Most values of a resized image: 2^30 float32 values are 4 GiB, at or above every GPU's
 * maxStorageBufferBindingSize, so a larger image could never become a tensor. */
const MAX_IMAGE_VALUES = 2 ** 30;

/**
 * Resizes the region `box` of `img` (default: the whole image) to `outWidth` x `outHeight`
 * with PIL's antialiased bilinear filtering, to the bit: torchvision's resize of a PIL image,
 * and its RandomResizedCrop (pixels outside the box are not read, so this equals
 * crop-then-resize). PIL's 8-bit algorithm: separable, horizontal pass first, each pass in
 * 22-bit fixed point rounded to 8 bits.
 */
export function resizeImageBilinear(img: RgbImage, outWidth: number, outHeight: number, box?: CropBox): RgbImage {
  const b = box ?? { top: 0, left: 0, height: img.height, width: img.width };
  checkBox(img, b, 'resizeImageBilinear');
  if (!Number.isInteger(outWidth) || !Number.isInteger(outHeight) || outWidth <= 0 || outHeight <= 0) {
    throw new Error(`resizeImageBilinear: bad output size ${outWidth}x${outHeight}`);
  }
  if (outWidth * outHeight * 3 > MAX_IMAGE_VALUES) {
    // Caught here, where the host's typed arrays would otherwise fail with a bare RangeError.
    throw new Error(
      `resizeImageBilinear: an output of ${outWidth}x${outHeight} holds ${outWidth * outHeight * 3} values, ` +
        'more than one GPU tensor can hold (4 GiB of float32): use a smaller --input-size',
    );
  }
  const cx = axisCoefficients(b.width, outWidth);
  const cy = axisCoefficients(b.height, outHeight);
  const out = new Uint8Array(uninitializedBuffer(outWidth * outHeight * 3));
  if (outWidth === b.width) { // no horizontal pass (PIL skips it too): the vertical one reads the box
    verticalPass(img.data, img.width * 3, b.top * img.width * 3 + b.left * 3, 0, cy, outWidth, outHeight, out);
    return { width: outWidth, height: outHeight, data: out };
  }
  // PIL resamples only the rows the vertical pass reads.
  const first = cy.start[0]!;
  const rows = cy.start[outHeight - 1]! + cy.count[outHeight - 1]! - first;
  const rowLen = outWidth * 3;
  const tmp = outHeight === b.height ? out : scratch(rows * rowLen);
  horizontalPass(img.data, img.width * 3, (b.top + first) * img.width * 3 + b.left * 3, b.width, rows, cx, outWidth, tmp);
  if (outHeight !== b.height) verticalPass(tmp, rowLen, 0, first, cy, outWidth, outHeight, out);
  return { width: outWidth, height: outHeight, data: out };
}
