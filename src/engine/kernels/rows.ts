/**
 * The launch shape of the row kernels (pooling/gem, pooling/gem_backward, normalization/l2n):
 * `T` threads per row and `rowWorkgroup(T)` threads per workgroup, as the `rows` WGSL snippet
 * (shaders/common/rows.wgsl) expects.
 */
import { runtime } from '../runtime.js';

/**
 * Threads per row for `rows` reductions of `len` values: a power of two <= 256, enough for
 * about 16k threads in all (GPU occupancy) but at least ~16 values per thread. Many short rows
 * (GeM on [8, 2048, 7, 7]) get one thread per row: no workgroup tree at all, which matters on
 * CPU Vulkan (lavapipe), where a barrier tree made the 7x7 case ~10x slower.
 */
export function rowThreads(rows: number, len: number): number {
  let t = 1;
  while (t < 256 && rows * t < 16384 && t * 16 < len) t *= 2;
  return t;
}

/** Workgroup size for T threads per row: 256 rows of one thread, else 64 threads (>= T). */
export function rowWorkgroup(t: number): number {
  return t === 1 ? 256 : Math.max(64, t);
}

/** The workgroup size of a row kernel variant, from its define T. */
export function rowWorkgroupOf(defines: { T?: unknown }): number {
  return rowWorkgroup(Number(defines.T));
}

/** The workgroup grid covering `rows` rows at T threads per row. */
export function rowGrid(rows: number, t: number): [number, number] {
  return runtime().grid(Math.ceil(rows / (rowWorkgroup(t) / t)));
}
