/**
 * Node image decoder on `sharp` (libvips: libjpeg-turbo/mozjpeg, libspng, libwebp), the
 * Node ecosystem's standard native image library, with TurboJPEG (turbo-jpeg.ts) for the
 * loader's training crops of JPEGs where it is installed: the same pixels, a fraction of the
 * CPU. Both are imported lazily, on first use, so that the browser bundle never loads them.
 */
import type { RgbImage } from './image.js';
import { toRgb } from './image.js';
import type { DecodeOptions, ImageDecoder } from './decode.js';
import { ImageDecodeError, inputName } from './decode.js';
import { headerImageSize } from './header-size.js';
import type { CropBox } from './transforms/geometry.js';
import { resizeImageBilinear } from './transforms/geometry.js';
import { loadTurboJpeg, type TurboJpeg } from './turbo-jpeg.js';

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
  /**
   * Read files with one blocking call instead of fs/promises' open, stat, read and close,
   * each a trip through libuv's thread pool (about half a millisecond of CPU per image).
   * For threads that do nothing else while a file is read: the loader's workers.
   */
  syncRead?: boolean;
  /**
   * Decode JPEGs whose orientation is not applied with TurboJPEG where it is installed (see
   * turbo-jpeg.ts): the same pixels as sharp's; training crops into a buffer kept by the
   * decoder, then cut and resized by the PIL-exact CPU resize. Default true.
   */
  turboJpeg?: boolean;
}

/** Decodes JPEG / PNG / WebP (and anything else libvips reads) with `sharp`. */
export class NodeImageDecoder implements ImageDecoder {
  private readonly options: NodeImageDecoderOptions;
  /** The whole-image pixels of TurboJPEG crops, reused from image to image. */
  private turboScratch = new Uint8Array(0);
  constructor(options: NodeImageDecoderOptions = {}) {
    this.options = options;
  }

  async decode(input: Uint8Array | string, options: DecodeOptions = {}): Promise<RgbImage> {
    const name = inputName(input, options);
    const bytes = await this.read(input, name);
    const turbo = await this.turboFor(bytes, options.autoOrient !== false);
    const fast = turbo?.decode(bytes);
    if (fast) return fast;
    const sharp = await this.sharp();
    try {
      return await this.decodeWith(sharp, bytes, options, 'warning');
    } catch (e) {
      if (options.allowTruncated) {
        // failOn 'warning' (sharp's default) rejects truncated data; PIL with
        // LOAD_TRUNCATED_IMAGES (the original's loader) keeps what was decoded, so a long run
        // over a large collection does not stop on one cut file. Retried only on failure, so
        // an intact image is decoded once.
        let partial: RgbImage | undefined;
        try {
          partial = await this.decodeWith(sharp, bytes, options, 'none');
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

  /**
   * Crop-while-decoding (see {@link ImageDecoder.decodeCropResized}). A JPEG without
   * orientation to apply goes through TurboJPEG when it is installed: the whole image into the
   * decoder's reused buffer, then the PIL-exact CPU resize of the box. Otherwise the size comes
   * from the header, then libvips extracts the box and shrinks it (linear kernel) on demand, so
   * libjpeg stops after the box's last row and only the box is resampled. Data that fails this
   * strict path goes through {@link decode} (its damaged-file handling) and the CPU resize of
   * the same box.
   */
  async decodeCropResized(
    input: Uint8Array | string, cropBox: (width: number, height: number) => CropBox, outWidth: number, outHeight: number, options: DecodeOptions = {},
  ): Promise<RgbImage> {
    const name = inputName(input, options);
    const bytes = await this.read(input, name);
    const orient = options.autoOrient !== false;
    const turbo = await this.turboFor(bytes, orient);
    const crop = turbo ? this.turboCrop(turbo, bytes, cropBox, outWidth, outHeight) : null;
    if (crop) return crop;
    const sharp = await this.sharp();
    let box: CropBox | undefined;
    try {
      const [width, height] = await this.orientedSize(sharp, bytes, orient);
      box = cropBox(width, height);
      let pipe = sharp(bytes, { failOn: 'warning', limitInputPixels: 1 << 28, sequentialRead: true });
      if (orient) pipe = pipe.rotate(); // before extract: the box is in oriented coordinates
      pipe = pipe.extract(box);
      // libvips' reduce (shrinking) samples at pixel centres as PIL does; its upsizing aligns
      // corners instead (a quarter-pixel shift at 2x), so a box smaller than the output on
      // either side is only cut out here and resized by the PIL-exact CPU resize.
      const shrink = box.width >= outWidth && box.height >= outHeight;
      if (shrink) pipe = pipe.resize(outWidth, outHeight, { fit: 'fill', kernel: 'linear' });
      const { data, info } = await pipe.raw().toBuffer({ resolveWithObject: true });
      const img = toRgb(info.width, info.height, info.channels, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      return shrink ? img : resizeImageBilinear(img, outWidth, outHeight);
    } catch {
      const img = await this.decode(bytes, { ...options, name });
      return resizeImageBilinear(img, outWidth, outHeight, box ?? cropBox(img.width, img.height));
    }
  }

  /**
   * The resized box of a JPEG decoded by TurboJPEG into the reused buffer, or null where
   * TurboJPEG does not decode the data cleanly (the box not drawn then). Synchronous from the
   * decode to the resize, so that tasks running concurrently on this decoder never share the
   * buffer.
   */
  private turboCrop(turbo: TurboJpeg, bytes: Uint8Array, cropBox: (width: number, height: number) => CropBox, outWidth: number, outHeight: number): RgbImage | null {
    const whole = turbo.decode(bytes, (need) => {
      // grown to the largest image seen, up to 64 MiB; larger ones get their own buffer
      if (this.turboScratch.length < need && need <= 64 << 20) this.turboScratch = new Uint8Array(need);
      return this.turboScratch;
    });
    return whole && resizeImageBilinear(whole, outWidth, outHeight, cropBox(whole.width, whole.height));
  }

  /** TurboJPEG for JPEG `bytes` whose orientation is not to be applied, where installed and not turned off; else null (sharp). */
  private async turboFor(bytes: Uint8Array, orient: boolean): Promise<TurboJpeg | null> {
    return !orient && this.options.turboJpeg !== false && isJpeg(bytes) ? loadTurboJpeg() : null;
  }

  /** The image's size after orientation (where `orient`), from the header. */
  private async orientedSize(sharp: SharpModule, bytes: Uint8Array, orient: boolean): Promise<[number, number]> {
    const quick = orient ? null : headerImageSize(bytes);
    if (quick) return quick;
    const meta = await sharp(bytes).metadata();
    if (!meta.width || !meta.height) throw new Error('no image size in the header');
    return orient && (meta.orientation ?? 1) >= 5 ? [meta.height, meta.width] : [meta.width, meta.height];
  }

  private read(input: Uint8Array | string, name: string): Promise<Uint8Array> {
    return this.options.syncRead && typeof input === 'string' ? readInputSync(input, name) : readInput(input, name);
  }

  private async sharp(): Promise<SharpModule> {
    const sharp = await loadSharp();
    if (this.options.concurrency !== undefined) sharp.concurrency(this.options.concurrency);
    return sharp;
  }

  private async decodeWith(sharp: SharpModule, input: Uint8Array, options: DecodeOptions, failOn: 'warning' | 'none'): Promise<RgbImage> {
    // sequentialRead: libjpeg's top-to-bottom order, no random-access cache of the image.
    let pipe = sharp(input, { failOn, limitInputPixels: 1 << 28, sequentialRead: true });
    // .rotate() without an angle applies the EXIF orientation; without it sharp keeps the
    // stored pixels (what PIL's Image.open gives).
    if (options.autoOrient !== false) pipe = pipe.rotate();
    // sharp converts to sRGB 8-bit on output; gray stays 1 channel and alpha is kept (toRgb fixes both).
    const { data, info } = await pipe.raw().toBuffer({ resolveWithObject: true });
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    return toRgb(info.width, info.height, info.channels, bytes);
  }
}

/** The bytes of a path (read once: sharp on a buffer skips its own file handling), or the bytes given. */
async function readInput(input: Uint8Array | string, name: string): Promise<Uint8Array> {
  if (typeof input !== 'string') return input;
  const { readFile } = await import('node:fs/promises');
  try {
    return await readFile(input);
  } catch (e) {
    throw new ImageDecodeError(name, `file not found or unreadable (${(e as Error).message})`, { cause: e });
  }
}

/** {@link readInput} with one blocking read. */
async function readInputSync(path: string, name: string): Promise<Uint8Array> {
  const { readFileSync } = await import('node:fs');
  try {
    return readFileSync(path);
  } catch (e) {
    throw new ImageDecodeError(name, `file not found or unreadable (${(e as Error).message})`, { cause: e });
  }
}

/** JPEG data starts with SOI and a marker. */
function isJpeg(bytes: Uint8Array): boolean {
  return bytes.length > 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}
