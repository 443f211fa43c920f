/**
 * The engine's tuning knobs, one typed object: given to `init({ tuning })`, read by the kernels
 * that choose a variant, changed for comparisons with `tune({...})` (benchmarks, tests that run
 * every variant) or for one call with `withTuning({...}, fn)`. The defaults choose by adapter; see docs/performance.md for the reasons.
 */

/** Per-thread tile of the direct (CPU-adapter) convolution schedule; see kernels/conv2d. */
export interface ConvDirectTile {
  /** Output rows (channels) per thread; with `swap`, output columns (pixels) per thread. */
  rows: number;
  /** Groups of 4 output columns per thread; with `swap`, groups of 4 rows (channels). */
  cgroups: number;
  /** Threads along the vec4 side (1, 2, 4, ..., 64; the other 64/colt threads go along the other). */
  colt: number;
  /** Pixels on the scalar side (forward and input gradient only), for small maps at batch 1. */
  swap?: boolean;
}

export interface Tuning {
  /** Convolution schedule: 'tiled' (workgroup-memory tiles, GPUs), 'direct' (CPU adapters), 'auto' by adapter. */
  convSchedule: 'auto' | 'tiled' | 'direct';
  /** Winograd for 3x3 stride-1 convolutions: 'auto' by cost, 'always', 'never'. */
  winograd: 'auto' | 'always' | 'never';
  /** Winograd tile when forced: F(2x2, 3x3) or F(4x4, 3x3); null lets the cost model choose. */
  winogradTile: 2 | 4 | null;
  /** Winograd intermediate layout. */
  winogradLayout: 'auto' | 'channel-major' | 'tile-major';
  /** The direct schedule's tile, or null for the cost model's choice. */
  convDirectTile: ConvDirectTile | null;
  /** Direct convolutions share per-row operand loads across 8-lane subgroups where the device allows. */
  convSubgroups: boolean;
  /** Matmul's subgroup kernel where the device allows (CPU adapters with 8-lane subgroups). */
  matmulSubgroups: boolean;
  /**
   * Depthwise and grouped convolutions on their dedicated kernels (depthwise*, grouped, the
   * per-row weight gradient); false: the implicit GEMM everywhere (comparisons).
   */
  convDepthwise: boolean;
  /**
   * Half-precision inference where the device has `shader-f16`; false acts as if it had not
   * (precision 'auto' then resolves to f32, 'f16' falls back to f32 saying why).
   */
  halfPrecision: boolean;
  /**
   * The grouped kernel for the forward pass and input gradient of narrow groups: 'auto' (stride
   * 1, where it measured faster than the GEMM), 'always' (every pass it computes, strided
   * forward passes too: tests, comparisons), 'never' (the GEMM).
   */
  convGrouped: 'auto' | 'always' | 'never';
}

export const DEFAULT_TUNING: Readonly<Tuning> = {
  convSchedule: 'auto',
  winograd: 'auto',
  winogradTile: null,
  winogradLayout: 'auto',
  convDirectTile: null,
  convSubgroups: true,
  matmulSubgroups: true,
  convDepthwise: true,
  halfPrecision: true,
  convGrouped: 'auto',
};

let current: Tuning = { ...DEFAULT_TUNING };

/** The tuning in force. */
export function tuning(): Readonly<Tuning> {
  return current;
}

/** Changes some knobs (the rest keep their value); returns the previous tuning, for restoring. */
export function tune(changes: Partial<Tuning>): Tuning {
  const before = current;
  if (changes.convDirectTile) checkDirectTile(changes.convDirectTile);
  checkConvChoices(changes);
  current = { ...current, ...changes };
  return before;
}

/**
 * Runs `fn` with some knobs changed, then restores the tuning (per call: e.g. one convolution
 * forced to the GEMM while the rest of a network keeps the automatic choice). `fn` must be
 * synchronous.
 */
export function withTuning<T>(changes: Partial<Tuning>, fn: () => T): T {
  const before = tune(changes);
  try {
    return fn();
  } finally {
    current = before;
  }
}

function checkConvChoices(changes: Partial<Tuning>): void {
  const allowed: [keyof Tuning, readonly unknown[]][] = [
    ['convSchedule', ['auto', 'tiled', 'direct']], ['winograd', ['auto', 'always', 'never']],
    ['winogradTile', [2, 4, null]], ['winogradLayout', ['auto', 'channel-major', 'tile-major']],
    ['convGrouped', ['auto', 'always', 'never']],
  ];
  for (const [key, values] of allowed) {
    if (key in changes && !values.includes(changes[key])) {
      throw new Error(`tune: ${key} must be ${values.map((v) => (typeof v === 'string' ? `'${v}'` : String(v))).join(', ').replace(/, ([^,]*)$/, ' or $1')}, got ${JSON.stringify(changes[key])}`);
    }
  }
}

function checkDirectTile(tile: ConvDirectTile): void {
  if (![1, 2, 4, 8, 16, 32, 64].includes(tile.colt) || !(tile.rows >= 1 && tile.rows <= 32) || !(tile.cgroups >= 1 && tile.cgroups <= 8)) {
    throw new Error(`tune: invalid convDirectTile ${JSON.stringify(tile)} (rows 1-32, cgroups 1-8, colt 1/2/4/8/16/32/64)`);
  }
}
