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

/** Resampling weights along one axis: output k reads `taps` inputs from `start[k]`. */
interface AxisCoefficients {
  start: Int32Array;
  count: Int32Array;
  taps: number;
  weights: Float32Array;
}

/** PIL `precompute_coeffs` for the bilinear (triangle) filter, restricted to [lo, lo+size). */
function axisCoefficients(lo: number, size: number, outSize: number): AxisCoefficients {
  const scale = size / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filterScale; // bilinear support 1.0, widened when downscaling (antialias)
  const taps = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float32Array(outSize * taps);
  const inv = 1 / filterScale;
  for (let k = 0; k < outSize; k++) {
    const center = lo + (k + 0.5) * scale;
    const xmin = Math.max(Math.trunc(center - support + 0.5), lo);
    const xmax = Math.min(Math.trunc(center + support + 0.5), lo + size);
    let total = 0;
    const n = Math.min(xmax - xmin, taps);
    for (let t = 0; t < n; t++) {
      const w = Math.max(0, 1 - Math.abs((xmin + t - center + 0.5) * inv));
      weights[k * taps + t] = w;
      total += w;
    }
    if (total > 0) for (let t = 0; t < n; t++) weights[k * taps + t]! /= total;
    start[k] = xmin;
    count[k] = n;
  }
  return { start, count, taps, weights };
}

let scratchArray = new Float32Array(0);

/**
 * The resize's intermediate rows: one array per thread, grown as needed (every value is written
 * before it is read), so that a loader's worker does not allocate and fault in half a megabyte
 * per crop; above 16 MiB a fresh array, not kept.
 */
function scratch(length: number): Float32Array {
  if (length > 4 << 20) return new Float32Array(length);
  if (scratchArray.length < length) scratchArray = new Float32Array(Math.max(length, 2 * scratchArray.length));
  return scratchArray.subarray(0, length);
}

/** Most values of a resized image: 2^30 float32 values are 4 GiB, at or above every GPU's
 * maxStorageBufferBindingSize, so a larger image could never become a tensor. */
const MAX_IMAGE_VALUES = 2 ** 30;

/**
 * Resizes the region `box` of `img` (default: the whole image) to `outWidth` x `outHeight`
 * with PIL-style antialiased bilinear filtering (pixels outside the box are not read, so
 * this equals crop-then-resize). Separable: horizontal pass in float, vertical pass rounded
 * to 8 bits.
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
  const cx = axisCoefficients(b.left, b.width, outWidth);
  const cy = axisCoefficients(b.top, b.height, outHeight);
  const src = img.data;
  const srcStride = img.width * 3;
  // Horizontal pass over the rows of the box: tmp[(y - top) * outWidth * 3 + x * 3 + c].
  const rows = b.height;
  const rowLen = outWidth * 3;
  const tmp = scratch(rows * rowLen + rowLen);
  const acc = tmp.subarray(rows * rowLen);
  const xStart = cx.start, xCount = cx.count, xW = cx.weights, xTaps = cx.taps;
  for (let y = 0; y < rows; y++) {
    const srow = (b.top + y) * srcStride;
    let d = y * rowLen;
    for (let x = 0; x < outWidth; x++, d += 3) {
      const n = xCount[x]!;
      let p = srow + xStart[x]! * 3;
      let wo = x * xTaps;
      if (n === 2) { // an upscale's taps, unrolled (same sums in the same order)
        const w0 = xW[wo]!, w1 = xW[wo + 1]!;
        tmp[d] = w0 * src[p]! + w1 * src[p + 3]!;
        tmp[d + 1] = w0 * src[p + 1]! + w1 * src[p + 4]!;
        tmp[d + 2] = w0 * src[p + 2]! + w1 * src[p + 5]!;
        continue;
      }
      let r = 0, g = 0, bl = 0;
      for (let t = 0; t < n; t++, p += 3, wo++) {
        const w = xW[wo]!;
        r += w * src[p]!; g += w * src[p + 1]!; bl += w * src[p + 2]!;
      }
      tmp[d] = r; tmp[d + 1] = g; tmp[d + 2] = bl;
    }
  }
  // Vertical pass, accumulated row by row (contiguous memory), rounded to 8 bits.
  const out = new Uint8Array(uninitializedBuffer(outWidth * outHeight * 3));
  const yStart = cy.start, yCount = cy.count, yW = cy.weights, yTaps = cy.taps;
  for (let y = 0; y < outHeight; y++) {
    const s0 = yStart[y]! - b.top;
    const n = yCount[y]!;
    const wo = y * yTaps;
    const orow = y * rowLen;
    if (n === 2) {
      // The common tap count (every row of an upscale) in one loop, with the generic path's
      // roundings: each product and sum rounded to f32 as its Float32Array accumulator does.
      const w0 = yW[wo]!, w1 = yW[wo + 1]!;
      const b0 = s0 * rowLen, b1 = b0 + rowLen;
      for (let i = 0; i < rowLen; i++) {
        const v = Math.fround(Math.fround(w0 * tmp[b0 + i]!) + w1 * tmp[b1 + i]!) + 0.5;
        out[orow + i] = v <= 0 ? 0 : v >= 255 ? 255 : v | 0;
      }
      continue;
    }
    let w = yW[wo]!;
    let base = s0 * rowLen;
    for (let i = 0; i < rowLen; i++) acc[i] = w * tmp[base + i]!;
    for (let t = 1; t < n; t++) {
      w = yW[wo + t]!;
      base = (s0 + t) * rowLen;
      for (let i = 0; i < rowLen; i++) acc[i]! += w * tmp[base + i]!;
    }
    for (let i = 0; i < rowLen; i++) {
      const v = acc[i]! + 0.5;
      out[orow + i] = v <= 0 ? 0 : v >= 255 ? 255 : v | 0;
    }
  }
  return { width: outWidth, height: outHeight, data: out };
}
