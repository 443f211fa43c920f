/**
 * The two schedules of the implicit-GEMM kernels (gemm.wgsl, wgrad.wgsl) and the direct
 * schedule's per-thread tile. 'tiled': 64x64 tiles through workgroup memory, 256 threads with
 * 4x4 register blocks (GPUs). 'direct': the same GEMMs without workgroup memory or barriers,
 * up to 16 rows x 16 columns per thread (CPU adapters such as lavapipe and SwiftShader, where a
 * barrier is a coroutine switch of every SIMD group and every load a per-lane scalar loop).
 */
import { runtime } from '../../runtime.js';
import { tuning, type ConvDirectTile, type Tuning } from '../../tuning.js';
import { hasSubgroupKernel } from '../matmul/matmul_subgroup.js';

export type ConvSchedule = 'tiled' | 'direct';

/** The schedule a setting resolves to ('auto': 'direct' on CPU adapters, else 'tiled'). */
export function resolveSchedule(setting: Tuning['convSchedule'] = tuning().convSchedule): ConvSchedule {
  if (setting !== 'auto') return setting;
  return runtime().gpu.cpuAdapter ? 'direct' : 'tiled';
}

/** One per-thread shape of the direct schedule, its relative speed and the colt values tried. */
interface TileShape { rows: number; cgroups: number; speed: number; swap: boolean; colts: readonly number[] }

const ALL_COLTS = [64, 32, 16, 8, 4, 2, 1];

// Per-thread shapes and their relative speed on lavapipe (see docs/conv2d.md): it is
// load-bound, so tall and wide tiles win where they are not padded; shorter and narrower ones
// where they waste less. The swapped shape (pixels on the scalar side, 4 channel threads x 16
// pixel threads: 64 channels x 208 pixels per workgroup) fits 14x14 maps.
const TILE_SHAPES: readonly TileShape[] = [
  ...([[16, 4, 1.0], [16, 3, 0.9], [16, 2, 0.77], [16, 1, 0.52], [8, 4, 0.62], [8, 2, 0.58], [8, 1, 0.46], [4, 1, 0.38]] as const)
    .map(([rows, cgroups, speed]) => ({ rows, cgroups, speed, swap: false, colts: ALL_COLTS })),
  { rows: 13, cgroups: 4, speed: 0.95, swap: true, colts: [4] },
];

/**
 * The direct schedule's tile for an M x NCOL GEMM (per group, `maxSplits` split-K chunks):
 * `tuning().convDirectTile` when set, else the shape that minimizes the makespan of the padded
 * work over the host's cores. `allowSwap`: forward and input gradient only.
 */
export function directTile(M: number, NCOL: number, groups: number, maxSplits = 1, allowSwap = false): ConvDirectTile {
  const forced = tuning().convDirectTile;
  if (forced) return allowSwap || !forced.swap ? forced : { ...forced, swap: false };
  // A CPU adapter runs one workgroup per host thread: the time is the number of waves of
  // `cores` workgroups times one workgroup's (padded) work.
  const cores = Math.max(1, runtime().gpu.hostCores);
  let best: ConvDirectTile = { rows: 16, cgroups: 4, colt: 64 };
  let bestCost = Infinity;
  for (const { rows, cgroups, speed, swap, colts } of TILE_SHAPES) {
    if (swap && !allowSwap) continue;
    for (const colt of colts) {
      const tile = { rows, cgroups, colt, swap };
      const { rowsPerWg: tr, colsPerWg: tc } = tileDims(true, tile);
      const wgs = Math.ceil(M / tr) * Math.ceil(NCOL / tc) * groups * maxSplits;
      // Fewer threads along the columns cost a little (and one, the pointwise path's vec4 loads).
      const colPenalty = 1 + 0.02 * Math.log2(64 / colt) + (colt === 1 ? 0.15 : 0);
      const cost = (Math.ceil(wgs / cores) * tr * tc / speed) * colPenalty;
      if (cost < bestCost) {
        bestCost = cost;
        best = tile;
      }
    }
  }
  return best;
}

/** Output rows and columns one workgroup covers. */
export function tileDims(direct: boolean, t: ConvDirectTile): { rowsPerWg: number; colsPerWg: number } {
  if (!direct) return { rowsPerWg: 64, colsPerWg: 64 };
  const scalarSide = t.rows * (64 / t.colt);
  const vecSide = 4 * t.cgroups * t.colt;
  return t.swap ? { rowsPerWg: vecSide, colsPerWg: scalarSide } : { rowsPerWg: scalarSide, colsPerWg: vecSide };
}

/** The tiled schedule's fixed shape (its kernels ignore the tile defines but need values). */
export const TILED_DEFAULTS: ConvDirectTile = { rows: 4, cgroups: 1, colt: 64 };

/** Whether a direct tile shares its per-row operand across subgroups of 8 lanes (gemm.wgsl SUBGROUP). */
export function shareWeights(tile: ConvDirectTile): boolean {
  return tuning().convSubgroups && hasSubgroupKernel() && tile.colt % 8 === 0 && tile.rows % 8 === 0;
}

/** BROADCAST_FMAS of gemm.wgsl / wgrad.wgsl: per row i, the broadcast from lane i % 8 and its multiply-adds. */
export function broadcastFmas(rows: number): string {
  const lines: string[] = [];
  for (let i = 0; i < rows; i++) {
    lines.push(`  { let a = vec4f(subgroupBroadcast(aw[${i >> 3}u], ${i & 7}u)); for (var g = 0u; g < CG; g++) { (*acc)[${i}u * CG + g] = fma(a, b[g], (*acc)[${i}u * CG + g]); } }`);
  }
  return lines.join('\n');
}

/** Whether tiled kernels unroll their inner loop (not on CPU adapters: compile time). */
export function unrollTiles(): boolean {
  return resolveSchedule('auto') === 'tiled';
}

export function checkGrid(name: string, wg: readonly number[]): void {
  const max = runtime().gpu.limits.maxComputeWorkgroupsPerDimension;
  if (wg.some((v) => v > max)) throw new Error(`${name}: grid ${JSON.stringify(wg)} exceeds ${max} workgroups per dimension (batch too large)`);
}
