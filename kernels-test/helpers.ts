/** Test helpers: seeded random data, CPU float64 references, finite differences, tolerances. */
import * as assert from 'uvu/assert';

/** Deterministic uniform [0, 1) generator (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal values (Box-Muller), as float32-representable doubles. */
export function randn(n: number, seed: number, scale = 1): Float64Array {
  const r = rng(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const u = Math.max(r(), 1e-12);
    out[i] = Math.fround(scale * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r()));
  }
  return out;
}

export function prod(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export interface Tolerance {
  atol: number;
  rtol: number;
}

/** |a - e| <= atol + rtol * |e| element-wise, with the worst element in the message. */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tolerance, what: string): void {
  assert.is(actual.length, expected.length, `${what}: length`);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    const excess = Math.abs(a - e) - (tol.atol + tol.rtol * Math.abs(e));
    if (Number.isNaN(a) !== Number.isNaN(e) || excess > worstExcess) {
      worst = i;
      worstExcess = Number.isNaN(a) !== Number.isNaN(e) ? Infinity : excess;
    }
  }
  if (worst >= 0) {
    assert.unreachable(`${what}: element ${worst} is ${actual[worst]}, expected ${expected[worst]} (atol ${tol.atol}, rtol ${tol.rtol})`);
  }
}

/**
 * Central finite differences (float64) of s(x) = sum_i w_i f(x)_i with respect to x:
 * the gradient that backward() must produce when given w as the output gradient.
 */
export function numericGrad(f: (x: Float64Array) => ArrayLike<number>, x: Float64Array, w: ArrayLike<number>, eps = 1e-6): Float64Array {
  const g = new Float64Array(x.length);
  const xp = Float64Array.from(x);
  const dot = (y: ArrayLike<number>) => {
    let s = 0;
    for (let i = 0; i < y.length; i++) s += w[i] * y[i];
    return s;
  };
  for (let i = 0; i < x.length; i++) {
    xp[i] = x[i] + eps;
    const up = dot(f(xp));
    xp[i] = x[i] - eps;
    const down = dot(f(xp));
    xp[i] = x[i];
    g[i] = (up - down) / (2 * eps);
  }
  return g;
}

/** Row-major strides. */
export function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    s[d] = acc;
    acc *= shape[d];
  }
  return s;
}

/** CPU broadcasting map (float64), the reference for elementwise ops. */
export function broadcastMap(
  a: ArrayLike<number>, aShape: readonly number[], b: ArrayLike<number>, bShape: readonly number[],
  f: (x: number, y: number) => number,
): { data: Float64Array; shape: number[] } {
  const rank = Math.max(aShape.length, bShape.length);
  const pa = [...Array(rank - aShape.length).fill(1), ...aShape];
  const pb = [...Array(rank - bShape.length).fill(1), ...bShape];
  const shape = pa.map((d, i) => Math.max(d, pb[i]));
  const sa = strides(pa);
  const sb = strides(pb);
  const n = prod(shape);
  const out = new Float64Array(n);
  const so = strides(shape);
  for (let i = 0; i < n; i++) {
    let ia = 0;
    let ib = 0;
    for (let d = 0; d < rank; d++) {
      const c = Math.floor(i / so[d]) % shape[d];
      if (pa[d] !== 1) ia += c * sa[d];
      if (pb[d] !== 1) ib += c * sb[d];
    }
    out[i] = f(a[ia], b[ib]);
  }
  return { data: out, shape };
}

/** Asserts that `fn` throws (sync or async) an error whose message contains every fragment. */
export async function assertThrowsWith(fn: () => unknown, fragments: string[], what: string): Promise<void> {
  let message: string | null = null;
  try {
    await fn();
  } catch (err) {
    message = (err as Error).message;
  }
  if (message === null) assert.unreachable(`${what}: expected an error`);
  for (const f of fragments) {
    assert.ok(message!.includes(f), `${what}: error "${message}" should mention "${f}"`);
  }
}
