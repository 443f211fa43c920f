/**
 * The resize's two passes in WebAssembly SIMD (resize.wat): the same integer sums as the JS
 * passes of geometry.ts, so the same bytes, at a fraction of their time. The box's rows are
 * copied into the module's memory, resampled there, and the result copied out. Where the engine
 * has no WebAssembly SIMD, {@link simdResize} answers false and the JS passes run.
 */
import type { RgbImage } from '../image.js';
import type { CropBox } from './geometry.js';
import { uniformTaps, type AxisCoefficients } from './resample-coefficients.js';
import { RESIZE_WASM } from './resize-wasm.js';

interface ResizeModule {
  memory: WebAssembly.Memory;
  horizontal(src: number, stride: number, rows: number, offs: number, w: number, n: number, outWidth: number, dst: number): void;
  vertical(src: number, stride: number, starts: number, w: number, n: number, rowLen: number, outHeight: number, dst: number): void;
}

let instance: ResizeModule | null | undefined;

/** This thread's instance, or null where WebAssembly SIMD is missing. */
function resizeModule(): ResizeModule | null {
  if (instance !== undefined) return instance;
  instance = null;
  try {
    const bytes = Uint8Array.from(atob(RESIZE_WASM), (c) => c.charCodeAt(0));
    if (typeof WebAssembly === 'object' && WebAssembly.validate(bytes)) {
      instance = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports as unknown as ResizeModule;
    }
  } catch {
    instance = null;
  }
  return instance;
}

/** Bytes reserved past each buffer: the passes load a pixel as 4 bytes and a row as 16-byte blocks. */
const PAD = 16;

/** Lays out buffers one after another, 16-byte aligned, each padded. */
class Layout {
  end = 0;
  take(bytes: number): number {
    const at = this.end;
    this.end = Math.ceil((at + bytes + PAD) / 16) * 16;
    return at;
  }
}

/**
 * Resizes box `b` of `img` into `out` (`outWidth` x `outHeight` RGB) with the coefficients `cx`
 * and `cy` of resizeImageBilinear; false (and `out` untouched) without WebAssembly SIMD.
 */
export function simdResize(img: RgbImage, b: CropBox, cx: AxisCoefficients, cy: AxisCoefficients, outWidth: number, outHeight: number, out: Uint8Array): boolean {
  const m = resizeModule();
  if (!m) return false;
  const needH = outWidth !== b.width;
  const needV = outHeight !== b.height;
  // The rows the vertical pass reads (PIL resamples only those), counted from `first`.
  const first = needH ? cy.start[0]! : 0;
  const rows = needH ? cy.start[outHeight - 1]! + cy.count[outHeight - 1]! - first : b.height;
  const srcStride = b.width * 3;
  const rowLen = outWidth * 3;
  const h = needH ? uniformTaps(cx, outWidth, b.width) : null;
  const v = needV ? uniformTaps(cy, outHeight, rows, first) : null;
  const layout = new Layout();
  const src = layout.take(rows * srcStride);
  const hOffs = h ? layout.take(outWidth * 4) : 0;
  const hW = h ? layout.take(h.weights.length * 4) : 0;
  const tmp = needH && needV ? layout.take(rows * rowLen) : 0;
  const vStarts = v ? layout.take(outHeight * 4) : 0;
  const vW = v ? layout.take(v.weights.length * 4) : 0;
  const dst = layout.take(outHeight * rowLen);
  const pages = Math.ceil(layout.end / 65536) - m.memory.buffer.byteLength / 65536;
  if (pages > 0) m.memory.grow(pages);
  const mem = new Uint8Array(m.memory.buffer);
  const words = new Int32Array(m.memory.buffer);
  for (let y = 0; y < rows; y++) {
    const at = ((b.top + first + y) * img.width + b.left) * 3;
    mem.set(img.data.subarray(at, at + srcStride), src + y * srcStride);
  }
  if (h) {
    for (let x = 0; x < outWidth; x++) words[hOffs / 4 + x] = h.first[x]! * 3;
    words.set(h.weights, hW / 4);
    m.horizontal(src, srcStride, rows, hOffs, hW, h.n, outWidth, needV ? tmp : dst);
  }
  if (v) {
    words.set(v.first, vStarts / 4);
    words.set(v.weights, vW / 4);
    m.vertical(needH ? tmp : src, needH ? rowLen : srcStride, vStarts, vW, v.n, rowLen, outHeight, dst);
  }
  if (!h && !v) for (let y = 0; y < rows; y++) mem.copyWithin(dst + y * rowLen, src + y * srcStride, src + (y + 1) * srcStride);
  out.set(mem.subarray(dst, dst + outHeight * rowLen));
  return true;
}
