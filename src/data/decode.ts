/**
 * Image decoding interface, shared by the Node ({@link NodeImageDecoder}, on `sharp`) and
 * browser ({@link BrowserImageDecoder}, on `createImageBitmap`) implementations.
 */
import type { RgbImage } from './image.js';
import type { CropBox } from './transforms/geometry.js';

/** Options of {@link ImageDecoder.decode}. */
export interface DecodeOptions {
  /** Apply the EXIF orientation tag (default true). Datasets whose fix-up lists were made
   * for raw, un-oriented pixels (INRIA Holidays) turn it off. */
  autoOrient?: boolean;
  /**
   * Decode a damaged or truncated image as far as its data goes (the rest gray, as PIL with
   * `ImageFile.LOAD_TRUNCATED_IMAGES`, which the original's loader sets) instead of failing.
   * Default false: a bare decode refuses it. An image whose header is unreadable still fails.
   */
  allowTruncated?: boolean;
  /** Where the warning about a partly decoded image goes (default: console.warn). */
  onWarning?: (message: string) => void;
  /** Name used in error messages when `input` is bytes (a path names itself). */
  name?: string;
}

/** Decodes JPEG / PNG / WebP into 8-bit RGB (alpha dropped, gray replicated). */
export interface ImageDecoder {
  /** `input`: encoded bytes, or a path (Node) / URL (browser). */
  decode(input: Uint8Array | string, options?: DecodeOptions): Promise<RgbImage>;
  /**
   * Optional: decodes only the box `cropBox(width, height)` picks for the image's size (read
   * from the header, after orientation; called exactly once), resized to `outWidth` x
   * `outHeight`. Decoders without it leave the loader to decode the whole image and resize on
   * the CPU.
   */
  decodeCropResized?(
    input: Uint8Array | string, cropBox: (width: number, height: number) => CropBox, outWidth: number, outHeight: number, options?: DecodeOptions,
  ): Promise<RgbImage>;
}

/** A corrupt, truncated, unsupported or unreadable image; `file` names it. */
export class ImageDecodeError extends Error {
  readonly file: string;
  /** What went wrong, without the file name. */
  readonly reason: string;
  constructor(file: string, reason: string, options?: { cause?: unknown }) {
    super(`cannot decode image ${file}: ${reason}`, options);
    this.name = 'ImageDecodeError';
    this.file = file;
    this.reason = reason;
  }
}

/** The name to use for an input in messages. */
export function inputName(input: Uint8Array | string, options?: DecodeOptions): string {
  if (typeof input === 'string') return input;
  return options?.name ?? `<${input.length} bytes>`;
}
