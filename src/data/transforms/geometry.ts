/**
 * Geometric operations on 8-bit RGB images: crop, flips, quarter turns and a PIL-style
 * antialiased bilinear resize (the `Image.BILINEAR` resampling torchvision uses for PIL
 * images: a triangle filter whose support widens by the downscale factor).
 */
import type { RgbImage } from '../image.js';
import { uninitializedBuffer } from '../../util/uninitialized.js';
import { PRECISION_BITS, axisCoefficients, uniformTaps, type AxisCoefficients } from './resample-coefficients.js';
import { simdResize } from './resize-simd.js';

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
 * `dst` (packed rows). Every column takes the same number of taps ({@link uniformTaps}): the
 * common counts (2: upscales; 3, 4, 5: downscales up to 2x) run unrolled, without a branch per
 * pixel that a mix of counts would mispredict.
 */
function horizontalPass(src: Uint8Array, stride: number, at: number, width: number, rows: number, cx: AxisCoefficients, outWidth: number, dst: Uint8Array): void {
  const { n, first, weights: w } = uniformTaps(cx, outWidth, width);
  const offs = first.map((f) => f * 3);
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
 * PIL's vertical pass (ImagingResampleVertical_8bpc): output row y sums rows of `src` (from byte
 * `at`, row stride `stride`, `rows` rows readable; `outWidth` pixels used) from `start[y] - first`,
 * with {@link uniformTaps}.
 */
function verticalPass(src: Uint8Array, stride: number, at: number, rows: number, first: number, cy: AxisCoefficients, outWidth: number, outHeight: number, dst: Uint8Array): void {
  const { n, first: starts, weights } = uniformTaps(cy, outHeight, rows, first);
  const half = 1 << (PRECISION_BITS - 1);
  const rowLen = outWidth * 3;
  for (let y = 0; y < outHeight; y++) {
    const b0 = at + starts[y]! * stride, b1 = b0 + stride, b2 = b1 + stride, b3 = b2 + stride;
    const k = y * n;
    const o = y * rowLen;
    const w0 = weights[k]!, w1 = weights[k + 1] ?? 0, w2 = weights[k + 2] ?? 0, w3 = weights[k + 3] ?? 0;
    if (n === 2) {
      for (let i = 0; i < rowLen; i++) dst[o + i] = (half + src[b0 + i]! * w0 + src[b1 + i]! * w1) >> PRECISION_BITS;
    } else if (n === 3) {
      for (let i = 0; i < rowLen; i++) dst[o + i] = (half + src[b0 + i]! * w0 + src[b1 + i]! * w1 + src[b2 + i]! * w2) >> PRECISION_BITS;
    } else if (n === 4) {
      for (let i = 0; i < rowLen; i++) dst[o + i] = (half + src[b0 + i]! * w0 + src[b1 + i]! * w1 + src[b2 + i]! * w2 + src[b3 + i]! * w3) >> PRECISION_BITS;
    } else {
      for (let i = 0; i < rowLen; i++) {
        let acc = half;
        for (let t = 0, p = b0 + i; t < n; t++, p += stride) acc += src[p]! * weights[k + t]!;
        dst[o + i] = acc >> PRECISION_BITS;
      }
    }
  }
}

/** Most values of a resized image: 2^30 float32 values are 4 GiB, at or above every GPU's
 * maxStorageBufferBindingSize, so a larger image could never become a tensor. */
const MAX_IMAGE_VALUES = 2 ** 30;

/** Options of {@link resizeImageBilinear}. */
export interface ResizeOptions {
  /**
   * Run the passes in WebAssembly SIMD (resize-simd.ts) where the engine has it (default true);
   * false: the JS passes. Both give the same bytes.
   */
  simd?: boolean;
}

/**
 * Resizes the region `box` of `img` (default: the whole image) to `outWidth` x `outHeight`
 * with PIL's antialiased bilinear filtering, to the bit: torchvision's resize of a PIL image,
 * and its RandomResizedCrop (pixels outside the box are not read, so this equals
 * crop-then-resize). PIL's 8-bit algorithm: separable, horizontal pass first, each pass in
 * 22-bit fixed point rounded to 8 bits; in WebAssembly SIMD where the engine has it.
 */
export function resizeImageBilinear(img: RgbImage, outWidth: number, outHeight: number, box?: CropBox, options: ResizeOptions = {}): RgbImage {
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
  if (options.simd !== false && simdResize(img, b, cx, cy, outWidth, outHeight, out)) return { width: outWidth, height: outHeight, data: out };
  if (outWidth === b.width) { // no horizontal pass (PIL skips it too): the vertical one reads the box
    verticalPass(img.data, img.width * 3, b.top * img.width * 3 + b.left * 3, b.height, 0, cy, outWidth, outHeight, out);
    return { width: outWidth, height: outHeight, data: out };
  }
  // PIL resamples only the rows the vertical pass reads.
  const first = cy.start[0]!;
  const rows = cy.start[outHeight - 1]! + cy.count[outHeight - 1]! - first;
  const rowLen = outWidth * 3;
  const tmp = outHeight === b.height ? out : scratch(rows * rowLen);
  horizontalPass(img.data, img.width * 3, (b.top + first) * img.width * 3 + b.left * 3, b.width, rows, cx, outWidth, tmp);
  if (outHeight !== b.height) verticalPass(tmp, rowLen, 0, rows, first, cy, outWidth, outHeight, out);
  return { width: outWidth, height: outHeight, data: out };
}
