/**
 * Node image decoder on `sharp` (libvips: libjpeg-turbo/mozjpeg, libspng, libwebp), the
 * Node ecosystem's standard native image library. `sharp` is imported lazily, on first
 * use, so that the browser bundle never loads it.
 */
import type { RgbImage } from './image.js';
import { toRgb } from './image.js';
import type { DecodeOptions, ImageDecoder } from './decode.js';
import { ImageDecodeError, inputName } from './decode.js';

type SharpModule = typeof import('sharp');
let sharpPromise: Promise<SharpModule> | null = null;

/** Loads `sharp` once (dynamic import). */
export function loadSharp(): Promise<SharpModule> {
  sharpPromise ??= import('sharp').then((m) => ((m as unknown as { default?: SharpModule }).default ?? m) as SharpModule);
  return sharpPromise;
}

/** Options of {@link NodeImageDecoder}. */
export interface NodeImageDecoderOptions {
  /** libvips threads per image (sharp.concurrency); unset leaves sharp's default. Worker
   * threads of the loader set 1, since they already decode in parallel. */
  concurrency?: number;
}

/** Decodes JPEG / PNG / WebP (and anything else libvips reads) with `sharp`. */
export class NodeImageDecoder implements ImageDecoder {
  private readonly options: NodeImageDecoderOptions;
  constructor(options: NodeImageDecoderOptions = {}) {
    this.options = options;
  }

  async decode(input: Uint8Array | string, options: DecodeOptions = {}): Promise<RgbImage> {
    const name = inputName(input, options);
    const sharp = await loadSharp();
    if (this.options.concurrency !== undefined) sharp.concurrency(this.options.concurrency);
    if (typeof input === 'string') {
      const { access } = await import('node:fs/promises');
      try {
        await access(input);
      } catch (e) {
        throw new ImageDecodeError(name, `file not found or unreadable (${(e as Error).message})`, { cause: e });
      }
    }
    try {
      // failOn 'warning' (sharp's default) rejects truncated data instead of returning gray.
      let pipe = sharp(input, { failOn: 'warning', limitInputPixels: 1 << 28 });
      if (options.autoOrient !== false) pipe = pipe.rotate();
      // sharp converts to sRGB 8-bit on output; gray stays 1 channel and alpha is kept (toRgb fixes both).
      const { data, info } = await pipe.raw().toBuffer({ resolveWithObject: true });
      const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      return toRgb(info.width, info.height, info.channels, bytes);
    } catch (e) {
      throw new ImageDecodeError(name, (e as Error).message, { cause: e });
    }
  }
}
