/**
 * Browser image decoder: `createImageBitmap` (EXIF orientation applied with
 * `imageOrientation: 'from-image'`) drawn on an `OffscreenCanvas`, read back as RGBA and
 * packed to RGB. Works in windows and workers.
 */
import type { RgbImage } from './image.js';
import type { DecodeOptions, ImageDecoder } from './decode.js';
import { ImageDecodeError, inputName } from './decode.js';

/** Decodes images with the browser's codecs. `input` string = URL to fetch. */
export class BrowserImageDecoder implements ImageDecoder {
  async decode(input: Uint8Array | string, options: DecodeOptions = {}): Promise<RgbImage> {
    const name = inputName(input, options);
    let blob: Blob;
    if (typeof input === 'string') {
      let res: Response;
      try {
        res = await fetch(input);
      } catch (e) {
        throw new ImageDecodeError(name, `fetch failed (${(e as Error).message})`, { cause: e });
      }
      if (!res.ok) throw new ImageDecodeError(name, `HTTP ${res.status} ${res.statusText}`);
      blob = await res.blob();
    } else {
      blob = new Blob([input as Uint8Array<ArrayBuffer>]);
    }
    let bitmap: ImageBitmap;
    try {
      bitmap = await createImageBitmap(blob, {
        imageOrientation: options.autoOrient === false ? 'none' : 'from-image',
        premultiplyAlpha: 'none',
        colorSpaceConversion: 'default',
      });
    } catch (e) {
      throw new ImageDecodeError(name, `corrupt or unsupported image (${(e as Error).message})`, { cause: e });
    }
    try {
      const { width, height } = bitmap;
      const canvas = new OffscreenCanvas(width, height);
      const ctx = canvas.getContext('2d', { willReadFrequently: true });
      if (!ctx) throw new ImageDecodeError(name, 'no 2d canvas context');
      ctx.drawImage(bitmap, 0, 0);
      const rgba = ctx.getImageData(0, 0, width, height).data;
      const out = new Uint8Array(width * height * 3);
      for (let i = 0, j = 0; j < out.length; i += 4, j += 3) {
        out[j] = rgba[i]!; out[j + 1] = rgba[i + 1]!; out[j + 2] = rgba[i + 2]!;
      }
      return { width, height, data: out };
    } finally {
      bitmap.close();
    }
  }
}
