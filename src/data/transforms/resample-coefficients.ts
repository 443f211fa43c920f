/**
 * PIL's resampling coefficients of the bilinear filter along one axis (Resample.c), and their
 * form with one tap count for every output, shared by the JS passes (geometry.ts) and the SIMD
 * ones (resize-simd.ts).
 */

/** PIL's fixed-point precision of the 8-bit resampling (Resample.c: 32 - 8 - 2 bits). */
export const PRECISION_BITS = 22;

/** Resampling weights along one axis: output k reads `count[k]` inputs from `start[k]`, with the fixed-point weights at `k · taps`. */
export interface AxisCoefficients {
  start: Int32Array;
  count: Int32Array;
  taps: number;
  weights: Int32Array;
}

/**
 * PIL's `precompute_coeffs` for the bilinear (triangle) filter over an input of `size`
 * (support widened by the downscale factor: antialiasing), then `normalize_coeffs_8bpc`: the
 * same double arithmetic, so the same weights to the bit.
 */
export function axisCoefficients(size: number, outSize: number): AxisCoefficients {
  const scale = size / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filterScale;
  const taps = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Int32Array(outSize * taps);
  const w = new Float64Array(taps);
  const ss = 1 / filterScale;
  for (let k = 0; k < outSize; k++) {
    const center = (k + 0.5) * scale;
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const n = Math.min(Math.trunc(center + support + 0.5), size) - xmin;
    let total = 0;
    for (let t = 0; t < n; t++) {
      const x = Math.abs((t + xmin - center + 0.5) * ss);
      w[t] = x < 1 ? 1 - x : 0;
      total += w[t]!;
    }
    for (let t = 0; t < n; t++) {
      const v = total !== 0 ? w[t]! / total : w[t]!;
      weights[k * taps + t] = Math.trunc(v < 0 ? -0.5 + v * (1 << PRECISION_BITS) : 0.5 + v * (1 << PRECISION_BITS));
    }
    start[k] = xmin;
    count[k] = n;
  }
  return { start, count, taps, weights };
}

/** An axis's coefficients with the same tap count `n` for every output (see {@link uniformTaps}). */
export interface UniformTaps {
  n: number;
  /** First input index of each output. */
  first: Int32Array;
  /** `n` fixed-point weights per output. */
  weights: Int32Array;
}

/**
 * Every output takes the largest tap count of the axis (at most `available` inputs), the others
 * padded with zero weights (exact zeros in the integer sums), their first input moved back where
 * the padded taps would pass the end: loops with no branch per output. `shift` is subtracted from
 * every first input (the rows a vertical pass starts from).
 */
export function uniformTaps(c: AxisCoefficients, outSize: number, available: number, shift = 0): UniformTaps {
  let n = 0;
  for (let k = 0; k < outSize; k++) n = Math.max(n, c.count[k]!);
  n = Math.min(n, available);
  const first = new Int32Array(outSize);
  const weights = new Int32Array(outSize * n);
  for (let k = 0; k < outSize; k++) {
    const start = c.start[k]! - shift;
    const f = Math.min(start, available - n);
    first[k] = f;
    for (let t = 0; t < c.count[k]!; t++) weights[k * n + start - f + t] = c.weights[k * c.taps + t]!;
  }
  return { n, first, weights };
}
