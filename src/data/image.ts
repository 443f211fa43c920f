/**
 * Host image types of the data pipeline.
 *
 * - {@link RgbImage}: 8-bit RGB, row-major HWC (what decoders return and what the PIL-like
 *   uint8 augmentations work on).
 * - {@link ChwImage}: float32 planar CHW (what a transform pipeline finally returns, ready to
 *   be copied into an NCHW batch).
 */

/** 8-bit RGB image, `data[(y * width + x) * 3 + c]`. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** Float32 planar image, `data[(c * height + y) * width + x]`. */
export interface ChwImage {
  channels: number;
  height: number;
  width: number;
  data: Float32Array;
}

/** A new RGB image (zero-filled unless `data` is given; its length is checked). */
export function createRgbImage(width: number, height: number, data?: Uint8Array): RgbImage {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new Error(`createRgbImage: bad size ${width}x${height}`);
  }
  const n = width * height * 3;
  if (data && data.length !== n) throw new Error(`createRgbImage: ${width}x${height} needs ${n} bytes, got ${data.length}`);
  return { width, height, data: data ?? new Uint8Array(n) };
}

/** A copy of an RGB image. */
export function cloneRgbImage(img: RgbImage): RgbImage {
  return { width: img.width, height: img.height, data: img.data.slice() };
}

/** Gray (1 channel) to RGB by replication. */
export function grayToRgb(width: number, height: number, gray: Uint8Array): RgbImage {
  const out = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; i < width * height; i++, j += 3) {
    const v = gray[i]!;
    out[j] = v; out[j + 1] = v; out[j + 2] = v;
  }
  return { width, height, data: out };
}

/** Interleaved pixels with `channels` (1-4) to RGB: gray is replicated, alpha is dropped. */
export function toRgb(width: number, height: number, channels: number, src: Uint8Array): RgbImage {
  if (channels === 3) return { width, height, data: src.length === width * height * 3 ? src : src.slice(0, width * height * 3) };
  if (channels === 1) return grayToRgb(width, height, src);
  const out = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    const s = i * channels;
    if (channels === 2) {
      const v = src[s]!;
      out[i * 3] = v; out[i * 3 + 1] = v; out[i * 3 + 2] = v;
    } else {
      out[i * 3] = src[s]!; out[i * 3 + 1] = src[s + 1]!; out[i * 3 + 2] = src[s + 2]!;
    }
  }
  return { width, height, data: out };
}
