/**
 * ColorJitter (PIL semantics, see color.ts) followed by the fused ToTensor [+ lighting,
 * clamp] + normalize, in one pass over the pixels instead of one pass and one image per
 * operation. Brightness and contrast act on each value alone, so the ones before saturation
 * compose into one table and the ones after it fold into the float output tables; saturation
 * (at most one, it needs the pixel's luma) runs per pixel between them. Contrast's mean luma,
 * of the image as it stands before contrast, comes from a read-only pre-pass. The arithmetic
 * is the staged one, so the output is identical.
 */
import type { ChwImage, RgbImage } from '../image.js';
import type { ColorJitterParams } from './color.js';
import { pilLuma } from './color.js';
import type { FusedToTensorOptions } from './tensor.js';
import { normalizedChannelLuts } from './tensor.js';

function clip8(v: number): number {
  return v <= 0 ? 0 : v >= 255 ? 255 : v | 0;
}

/** The table of `f` (clipped and truncated to 8 bits) applied after `lut`. */
function composeTable(lut: Uint8Array, f: (v: number) => number): Uint8Array {
  const out = new Uint8Array(256);
  for (let v = 0; v < 256; v++) out[v] = clip8(f(lut[v]!));
  return out;
}

const IDENTITY: Uint8Array = Uint8Array.from({ length: 256 }, (_, v) => v);

/** Mean luma (PIL's rounding) of the image after `pre`, saturation `sat` (NaN: none) and `post`. */
function meanLumaAfter(img: RgbImage, pre: Uint8Array, sat: number, post: Uint8Array): number {
  const d = img.data;
  let sum = 0;
  for (let i = 0; i < d.length; i += 3) {
    let r = pre[d[i]!]!, g = pre[d[i + 1]!]!, b = pre[d[i + 2]!]!;
    if (sat === sat) {
      const l = pilLuma(r, g, b);
      r = clip8(l + sat * (r - l)); g = clip8(l + sat * (g - l)); b = clip8(l + sat * (b - l));
    }
    sum += pilLuma(post[r]!, post[g]!, post[b]!);
  }
  return Math.floor(sum / (d.length / 3) + 0.5);
}

/** `rgbToNormalizedChw(applyColorJitter(img, params), options)`, in one pass. */
export function jitterToNormalizedChw(img: RgbImage, params: ColorJitterParams, options: FusedToTensorOptions = {}): ChwImage {
  // Value tables before (pre) and after (post) the saturation step, built in the jitter's order.
  let pre: Uint8Array = IDENTITY, post: Uint8Array = IDENTITY, sat = NaN;
  for (const k of params.order) {
    const f = params.factors[k]!;
    if (k === 'saturation') { sat = f; continue; }
    let op: (v: number) => number;
    if (k === 'brightness') op = (v) => f * v;
    else {
      const m = sat === sat ? meanLumaAfter(img, pre, sat, post) : meanLumaAfter(img, pre, NaN, IDENTITY);
      op = (v) => m + f * (v - m);
    }
    if (sat === sat) post = composeTable(post, op);
    else pre = composeTable(pre, op);
  }
  const luts = normalizedChannelLuts(options);
  const [l0, l1, l2] = luts.map((lut) => Float32Array.from(post, (v) => lut[v]!)) as [Float32Array, Float32Array, Float32Array];
  const { width, height, data } = img;
  const plane = width * height;
  const out = new Float32Array(plane * 3);
  if (sat === sat) {
    for (let p = 0, s = 0; p < plane; p++, s += 3) {
      const r = pre[data[s]!]!, g = pre[data[s + 1]!]!, b = pre[data[s + 2]!]!;
      const l = pilLuma(r, g, b);
      out[p] = l0[clip8(l + sat * (r - l))]!;
      out[plane + p] = l1[clip8(l + sat * (g - l))]!;
      out[2 * plane + p] = l2[clip8(l + sat * (b - l))]!;
    }
  } else {
    const [m0, m1, m2] = [l0, l1, l2].map((lut) => Float32Array.from(pre, (v) => lut[v]!)) as [Float32Array, Float32Array, Float32Array];
    for (let p = 0, s = 0; p < plane; p++, s += 3) {
      out[p] = m0[data[s]!]!;
      out[plane + p] = m1[data[s + 1]!]!;
      out[2 * plane + p] = m2[data[s + 2]!]!;
    }
  }
  return { channels: 3, height, width, data: out };
}
