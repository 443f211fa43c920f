/**
 * Seedable pseudo-random generator shared by every layer (weight initialization in nn and
 * multigrain, sampling and augmentation in data): xoshiro128** (Blackman & Vigna),
 * 32-bit arithmetic only, so it is fast in JavaScript and identical in Node and the browser.
 * Seeds are expanded with splitmix32. The whole state is four 32-bit words that can be
 * saved (`getState`) and restored (`setState`) to resume a run exactly.
 *
 * `DataRng.derive(seed, a, b, ...)` hashes a seed with a tuple of integers into an
 * independent stream; the loader uses it to give every sample its own generator from
 * (seed, epoch, position), which makes augmentations independent of the worker count.
 */

/** Saved generator state: four unsigned 32-bit words (JSON-serializable). */
export type DataRngState = [number, number, number, number];

/** One splitmix32 step: returns [next state, output]. */
function splitmix32(state: number): [number, number] {
  const s = (state + 0x9e3779b9) | 0;
  let z = s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  z ^= z >>> 16;
  return [s, z >>> 0];
}

/** Murmur3 finalizer: a good 32-bit integer mixer. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Splits a (possibly > 32-bit) non-negative integer or any finite number into two words. */
function words(x: number): [number, number] {
  if (!Number.isFinite(x)) throw new Error(`DataRng: seed values must be finite numbers, got ${x}`);
  if (Number.isInteger(x) && Math.abs(x) <= Number.MAX_SAFE_INTEGER) {
    const neg = x < 0;
    const a = Math.abs(x);
    const lo = a % 0x100000000;
    const hi = Math.floor(a / 0x100000000);
    return [lo >>> 0, (hi ^ (neg ? 0x80000000 : 0)) >>> 0];
  }
  const f = new Float64Array([x]);
  const u = new Uint32Array(f.buffer);
  return [u[0]!, (u[1]! ^ 0x40000000) >>> 0];
}

/** xoshiro128** generator with save/restore and seed derivation. */
export class DataRng {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;

  /** Creates a generator from an integer seed (any safe integer; default 0). */
  constructor(seed = 0) {
    this.seed(seed);
  }

  /** A generator whose stream is determined by `seed` and the tuple `keys` (e.g. epoch, position). */
  static derive(seed: number, ...keys: number[]): DataRng {
    let h = 0x6a09e667;
    const mix = (x: number): void => {
      const [lo, hi] = words(x);
      h = fmix32((h ^ lo) + 0x9e3779b9);
      h = fmix32((h ^ hi) + 0x7f4a7c15);
    };
    mix(seed);
    mix(keys.length);
    for (const k of keys) mix(k);
    const r = new DataRng(0);
    r.seedWords(h, fmix32(h ^ 0x5bd1e995));
    return r;
  }

  /** A generator restored from a saved state. */
  static fromState(state: DataRngState): DataRng {
    const r = new DataRng(0);
    r.setState(state);
    return r;
  }

  /** Re-seeds this generator. */
  seed(seed: number): void {
    const [lo, hi] = words(seed);
    this.seedWords(lo, hi);
  }

  private seedWords(lo: number, hi: number): void {
    let st = (lo ^ Math.imul(hi, 0x27d4eb2d)) | 0;
    let out: number;
    [st, out] = splitmix32(st); this.s0 = out;
    [st, out] = splitmix32(st ^ hi); this.s1 = out;
    [st, out] = splitmix32(st); this.s2 = out;
    [st, out] = splitmix32(st); this.s3 = out;
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** The current state (copy); `setState` of it replays the same stream. */
  getState(): DataRngState {
    return [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0];
  }

  /** Restores a state returned by `getState`. */
  setState(state: DataRngState): void {
    if (!Array.isArray(state) || state.length !== 4 || state.some((w) => !Number.isInteger(w))) {
      throw new Error(`DataRng.setState: expected four 32-bit integers, got ${JSON.stringify(state)}`);
    }
    if (state.every((w) => (w | 0) === 0)) throw new Error('DataRng.setState: the all-zero state is invalid');
    this.s0 = state[0] | 0; this.s1 = state[1] | 0; this.s2 = state[2] | 0; this.s3 = state[3] | 0;
  }

  /** A copy of this generator (same state, independent afterwards). */
  clone(): DataRng {
    return DataRng.fromState(this.getState());
  }

  /** Next unsigned 32-bit integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9);
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result >>> 0;
  }

  /** Uniform float in [0, 1) with 53 random bits. */
  random(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** Uniform float in [lo, hi). */
  uniform(lo = 0, hi = 1): number {
    return lo + (hi - lo) * this.random();
  }

  /** Uniform integer in [0, n), unbiased (n must be a positive integer <= 2^32). */
  int(n: number): number {
    if (!(n >= 1) || !Number.isInteger(n) || n > 0x100000000) throw new Error(`DataRng.int: bad bound ${n}`);
    if (n === 1) return 0;
    const limit = 0x100000000 - (0x100000000 % n);
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }

  /** Uniform integer in [lo, hi] inclusive (like Python's random.randint). */
  intInclusive(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /** True with probability p. */
  bernoulli(p: number): boolean {
    return this.random() < p;
  }

  /** Gaussian sample (Box-Muller; consumes two uniforms per call). */
  normal(mean = 0, std = 1): number {
    const u1 = 1 - this.random();
    const u2 = this.random();
    return mean + std * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /** One element of `items`, uniformly. */
  choice<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('DataRng.choice: empty list');
    return items[this.int(items.length)]!;
  }

  /** In-place Fisher-Yates shuffle; returns `items`. */
  shuffle<T extends { length: number; [i: number]: unknown }>(items: T): T {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = items[i];
      items[i] = items[j];
      items[j] = t;
    }
    return items;
  }

  /** A uniformly random permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    return this.shuffle(p);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
