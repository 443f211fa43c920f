/**
 * JPEG decoding straight through libjpeg-turbo's TurboJPEG API, for the loader's hot path: no
 * libvips pipeline to build and no thread hand-offs per image, the output written into a buffer
 * the caller may reuse (figures in docs/performance.md), with the accurate integer IDCT and
 * fancy upsampling, so the pixels are PIL's and sharp's to the bit.
 *
 * Optional and Node-only: the library is called through `koffi` (an FFI), from the
 * libturbojpeg that `@julusian/jpeg-turbo` ships prebuilt (its own binding forces the fast,
 * inexact IDCT, hence the FFI), else the system's. Where neither loads, {@link loadTurboJpeg}
 * gives null and the decoder keeps to sharp. Any data TurboJPEG refuses or warns about
 * (truncated, CMYK, 12-bit) gives null too, so sharp's handling (and its errors) applies.
 */
import type { RgbImage } from './image.js';
import { uninitializedBuffer } from '../util/uninitialized.js';
import { headerImageSize } from './header-size.js';

/** A TurboJPEG decompressor (one per thread: a handle is not shared between threads). */
export interface TurboJpeg {
  /** The stored size of a JPEG from its header, or null. */
  size(jpeg: Uint8Array): [number, number] | null;
  /**
   * The RGB pixels of a JPEG (orientation tags not applied), in the buffer `into(bytes)` gives
   * when that is large enough, else in a new one; null where TurboJPEG does not decode the data
   * cleanly.
   */
  decode(jpeg: Uint8Array, into?: (bytes: number) => Uint8Array): RgbImage | null;
}

type Fn = (...args: unknown[]) => unknown;
interface KoffiLib {
  func(signature: string): Fn;
}
interface Koffi {
  load(path: string): KoffiLib;
}

const TJPF_RGB = 0;
let loading: Promise<TurboJpeg | null> | null = null;

/** The decompressor of this thread, or null where koffi or libturbojpeg is not available. */
export function loadTurboJpeg(): Promise<TurboJpeg | null> {
  loading ??= open().catch(() => null);
  return loading;
}

async function open(): Promise<TurboJpeg | null> {
  const module = (await import('koffi')) as unknown as Koffi & { default?: Koffi };
  const koffi = module.default ?? module;
  for (const path of await libraryCandidates()) {
    let lib: KoffiLib;
    try {
      lib = koffi.load(path);
    } catch {
      continue; // not there, or not loadable on this platform: the next candidate
    }
    return bind(lib);
  }
  return null;
}

/** libturbojpeg from @julusian/jpeg-turbo's prebuilds for this platform, then the system's names. */
async function libraryCandidates(): Promise<string[]> {
  const { createRequire } = await import('node:module');
  const { dirname, join } = await import('node:path');
  const { existsSync, readdirSync } = await import('node:fs');
  const out: string[] = [];
  try {
    const dir = dirname(createRequire(import.meta.url).resolve('@julusian/jpeg-turbo/package.json'));
    // musl systems (Alpine) have their dynamic loader in /lib
    const musl = process.platform === 'linux' && readdirSync('/lib').some((f) => f.startsWith('ld-musl-'));
    const so = join(dir, 'prebuilds', `jpeg-turbo-${process.platform}-${process.arch}${musl ? '-musl' : ''}`, 'libturbojpeg.so.0');
    if (existsSync(so)) out.push(so);
  } catch {
    // not installed (an optional dependency)
  }
  out.push(process.platform === 'darwin' ? 'libturbojpeg.0.dylib' : process.platform === 'win32' ? 'turbojpeg.dll' : 'libturbojpeg.so.0');
  return out;
}

/** The TurboJPEG 2 API (also in TurboJPEG 3), flags 0: accurate DCT, fancy upsampling. */
function bind(lib: KoffiLib): TurboJpeg {
  const init = lib.func('void* tjInitDecompress()');
  const header = lib.func('int tjDecompressHeader3(void* handle, const uint8_t* jpegBuf, unsigned long jpegSize, _Out_ int* width, _Out_ int* height, _Out_ int* subsamp, _Out_ int* colorspace)');
  const decompress = lib.func('int tjDecompress2(void* handle, const uint8_t* jpegBuf, unsigned long jpegSize, uint8_t* dstBuf, int width, int pitch, int height, int pixelFormat, int flags)');
  const handle = init();
  if (!handle) throw new Error('tjInitDecompress failed');
  const w = [0], h = [0], sub = [0], cs = [0];
  // The size is read by our own header parser as well: on a stream of tables only, TurboJPEG
  // answers success with the previous image's size.
  const size = (jpeg: Uint8Array): [number, number] | null => {
    const parsed = headerImageSize(jpeg);
    if (!parsed || header(handle, jpeg, jpeg.length, w, h, sub, cs) !== 0 || w[0] !== parsed[0] || h[0] !== parsed[1]) return null;
    return parsed;
  };
  return {
    size,
    decode(jpeg, into) {
      const dims = size(jpeg);
      if (!dims) return null;
      const [width, height] = dims;
      const bytes = width * height * 3;
      const given = into?.(bytes);
      const data = given && given.length >= bytes ? given.subarray(0, bytes) : new Uint8Array(uninitializedBuffer(bytes));
      if (decompress(handle, jpeg, jpeg.length, data, width, 0, height, TJPF_RGB, 0) !== 0) return null;
      return { width, height, data };
    },
  };
}
