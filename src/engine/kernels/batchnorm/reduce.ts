/**
 * Kernel `batchnorm/reduce`: the first level of batchnorm's per-channel reductions over
 * x [N, C, H, W], into partials [C, chunks, 2]. Channel c's M = N*H*W values are cut into
 * `chunks` pieces of about 8192 values; one 64-thread workgroup per (chunk, channel) reads its
 * piece coalesced (no integer division per value) and reduces in workgroup memory. Short
 * channels (M < 16k) share a workgroup: M / 256 threads each. Forward: sums of x - K and
 * (x - K)^2 with K the channel's first value (no catastrophic cancellation for large means);
 * backward: sums of dy and dy * (x - mean).
 */
import source from '../../../../shaders/batchnorm/reduce.wgsl';
import { defineKernel } from '../../kernel.js';
import { empty, type Tensor } from '../../tensor.js';

/** Values per workgroup of the first reduction level. */
const CHUNK_TARGET = 8192;
/**
 * Threads per reduction workgroup. 64 (two warps / one wavefront) keeps real GPUs busy through
 * the number of workgroups, and is ~3x faster than 256 on lavapipe, where the cost of a
 * workgroup-memory tree grows with the workgroup size.
 */
const REDUCE_WG = 64;
const MAX_CHUNKS = 64;

export const reduceKernel = defineKernel({
  name: 'batchnorm/reduce',
  source,
  uniforms: { c: 'u32', hw: 'u32', m: 'u32', chunks: 'u32', chunkLen: 'u32' },
  bindings: [
    { name: 'x', type: 'T', access: 'read' },
    { name: 'dy', type: 'T', access: 'read', when: 'BACKWARD' },
    { name: 'stats', type: 'f32', access: 'read', when: 'BACKWARD' },
    { name: 'partials', type: 'f32', access: 'read_write' },
    { name: 'y', type: 'T', access: 'read', when: 'MASK' },
  ],
  workgroupSize: REDUCE_WG,
});

/**
 * Layout of the per-channel reduction of M values: threads per channel (a power of two, about
 * M / 256, at most REDUCE_WG) and, for long channels, chunks of about CHUNK_TARGET values.
 */
function chunking(m: number): { tpc: number; chunks: number; chunkLen: number } {
  let tpc = 1;
  while (tpc < REDUCE_WG && tpc * 256 < m) tpc *= 2;
  const chunks = tpc < REDUCE_WG ? 1 : Math.max(1, Math.min(MAX_CHUNKS, Math.ceil(m / CHUNK_TARGET)));
  const chunkLen = Math.ceil(m / chunks);
  return { tpc, chunks, chunkLen };
}

/**
 * First-level reduction of x [N, C, H, W]: partials [C, chunks, 2]. `dy` + `stats` select the
 * backward sums; `mask` (the forward output after a fused ReLU) zeroes dy where it is not positive.
 */
export function reducePartials(x: Tensor, dy: Tensor | null, stats: Tensor | null, mask: Tensor | null = null): { partials: Tensor; chunks: number } {
  const [n, c] = x.shape;
  const planeSize = x.shape[2] * x.shape[3];
  // with vec4 loads, sizes and indices count groups of 4 values of a channel's plane. Backward
  // only: the forward statistics read as vec4 (same sums, other order) move gradients of the
  // F(4x4)-forced ResNet-50 parity test past its 1e-2 bound (bn1.weight 0.22, layer2.3.bn3.bias
  // 0.06), while the automatic and F(2x2) runs pass. Not a wrong sum: that width-2, batch-2
  // fixture is ill-conditioned (in float64 PyTorch, a 1e-6 relative change of the input moves
  // its gradients by 3.6e-4 (median) and bn1.weight's by 4.5e-3), so F(4x4)'s float32 error
  // decides. Gain too small (~1 % of a step) to loosen that test for.
  const vec4 = dy !== null && planeSize % 4 === 0;
  const hw = vec4 ? planeSize / 4 : planeSize;
  const m = n * hw;
  const { tpc, chunks, chunkLen } = chunking(m);
  const partials = empty([c, chunks, 2]);
  const backward = dy !== null;
  const masked = backward && mask !== null;
  const bindings: Record<string, Tensor> = { x, partials };
  if (backward) Object.assign(bindings, { dy, stats: stats! });
  if (masked) bindings.y = mask;
  reduceKernel.dispatch({
    defines: { BACKWARD: backward, MASK: masked, TPC: tpc, VEC4: vec4 },
    uniforms: { c, hw, m, chunks, chunkLen },
    bindings,
    workgroups: [chunks, Math.ceil(c / (REDUCE_WG / tpc))],
  });
  return { partials, chunks };
}
