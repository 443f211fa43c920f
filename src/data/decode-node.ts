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
      return await this.decodeWith(sharp, input, options, 'warning');
    } catch (e) {
      if (options.allowTruncated) {
        // failOn 'warning' (sharp's default) rejects truncated data; PIL with
        // LOAD_TRUNCATED_IMAGES (the original's loader) keeps what was decoded, so a long run
        // over a large collection does not stop on one cut file. Retried only on failure, so
        // an intact image is decoded once.
        let partial: RgbImage | undefined;
        try {
          partial = await this.decodeWith(sharp, input, options, 'none');
        } catch {
          // unreadable even leniently (a broken header, not an image): the strict error below
        }
        if (partial) {
          (options.onWarning ?? ((m: string) => console.warn(m)))(`image ${name} is damaged or truncated (${(e as Error).message}); decoded as far as it goes`);
          return partial;
        }
      }
      throw new ImageDecodeError(name, (e as Error).message, { cause: e });
    }
  }

  private async decodeWith(sharp: SharpModule, input: Uint8Array | string, options: DecodeOptions, failOn: 'warning' | 'none'): Promise<RgbImage> {
    let pipe = sharp(input, { failOn, limitInputPixels: 1 << 28 });
    // .rotate() without an angle applies the EXIF orientation; without it sharp keeps the
    // stored pixels (what PIL's Image.open gives).
    if (options.autoOrient !== false) pipe = pipe.rotate();
    // sharp converts to sRGB 8-bit on output; gray stays 1 channel and alpha is kept (toRgb fixes both).
    const { data, info } = await pipe.raw().toBuffer({ resolveWithObject: true });
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    return toRgb(info.width, info.height, info.channels, bytes);
  }
}
