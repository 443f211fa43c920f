/**
 * Kernel `matmul/matmul_subgroup`: the matmul of CPU adapters with subgroups of 8 lanes
 * (lavapipe), 32 x 32 or 32 x 64 outputs per subgroup with A shared by subgroupBroadcast; vec4
 * B, row epilogue, no column bias. Launched by `matmulRaw` (matmul.ts), which chooses it
 * whenever it applies and `tuning().matmulSubgroups` allows.
 */
import source from '../../../../shaders/matmul/matmul_subgroup.wgsl';
import { defineKernel } from '../../kernel.js';
import { runtime } from '../../runtime.js';
import { EPILOGUE_BINDINGS } from './epilogue.js';

export const matmulSubgroupKernel = defineKernel({
  name: 'matmul/matmul_subgroup',
  source,
  uniforms: {
    M: 'u32', K: 'u32', groups: 'u32', aBatch: 'u32', bBatch: 'u32', cBatch: 'u32', wx: 'u32',
    sam: 'u32', sak: 'u32', sbk: 'u32', zero: 'u32', nPer: 'u32', epi: 'u32',
  },
  bindings: [
    { name: 'A', type: 'f32', access: 'read' },
    { name: 'B', type: 'vec4f', access: 'read' },
    { name: 'C', type: 'vec4f', access: 'read_write' },
    ...EPILOGUE_BINDINGS,
  ],
  /** SUBGROUPS subgroups of 8 lanes. */
  workgroupSize: (d) => Number(d.SUBGROUPS) * 8,
  snippets: ['matmulEpilogue'],
  enables: { SUBGROUPS: 'subgroups' },
});

/**
 * Whether this device runs the subgroup kernel: a CPU adapter (where loads, not arithmetic, bound
 * a matmul) with subgroups of exactly 8 lanes, formed from consecutive invocations (lavapipe).
 */
export function hasSubgroupKernel(): boolean {
  const gpu = runtime().gpu;
  return gpu.cpuAdapter && gpu.subgroupSize === 8;
}

/** A launch of the subgroup kernel. */
export interface SubgroupLaunch {
  /** Subgroups along M (the rest of the workgroup's along N): the `wx` uniform. */
  wx: number;
  /** The 64-column form (two column groups per lane). */
  cg2: boolean;
  /** Subgroups per workgroup (8, or 4). */
  subgroups: number;
}

/**
 * The subgroup kernel's form: 32 or 64 columns per subgroup (cg2), 8 or 4 subgroups per workgroup
 * and how many of them along M (the rest along N), by the least padded work (ties to 8 subgroups);
 * the 64-column form does a padded output ~1.25x faster (measured: 1.2-1.6x on the Winograd
 * products and 1024³).
 */
export function subgroupLaunch(M: number, groups: number): SubgroupLaunch {
  let best: SubgroupLaunch & { cost: number } = { wx: 1, cg2: false, subgroups: 8, cost: Infinity };
  for (const subgroups of [8, 4]) {
    for (const cg2 of [true, false]) {
      const gw = cg2 ? 16 : 8;
      for (let sy = 1; sy <= subgroups; sy *= 2) {
        const sx = subgroups / sy;
        const padded = Math.ceil(M / (32 * sy)) * 32 * sy * Math.ceil(groups / (sx * gw)) * sx * gw;
        const cost = padded / (cg2 ? 1.25 : 1);
        if (cost < best.cost) best = { wx: sy, cg2, subgroups, cost };
      }
    }
  }
  return best;
}
