/**
 * Kernel `matmul/matmul`: batched C[z] = op(A[z])·op(B[z]) (+ bias) with optional transposes,
 * and `matmulRaw`, the launcher that chooses between it, the subgroup kernel
 * (matmul_subgroup.ts) and the staging transpose (transpose.ts). Raw (no autograd): `matmul`
 * and `linear` (ops/matmul.ts), convolutions and losses build on it.
 */
import source from '../../../../shaders/matmul/matmul.wgsl';
import { defineKernel } from '../../kernel.js';
import { runtime } from '../../runtime.js';
import { tuning } from '../../tuning.js';
import { empty, type Tensor, shapeString } from '../../tensor.js';
import { checkFloat } from '../../checks.js';
import { placeholder } from '../placeholder.js';
import { EPILOGUE_BINDINGS, checkEpilogue, epilogueBits, type MatmulEpilogue } from './epilogue.js';
import { matmulSubgroupKernel, hasSubgroupKernel, subgroupLaunch } from './matmul_subgroup.js';
import { transposeBatch } from './transpose.js';

export type { MatmulEpilogue } from './epilogue.js';
export { hasSubgroupKernel } from './matmul_subgroup.js';

export const matmulKernel = defineKernel({
  name: 'matmul/matmul',
  source,
  uniforms: {
    M: 'u32', N: 'u32', K: 'u32', groups: 'u32', aBatch: 'u32', bBatch: 'u32', cBatch: 'u32', wx: 'u32',
    sam: 'u32', sak: 'u32', sbk: 'u32', sbn: 'u32', zero: 'u32', nPer: 'u32', epi: 'u32',
  },
  bindings: [
    { name: 'A', type: 'f32', access: 'read' },
    { name: 'B', type: 'VT', access: 'read' },
    { name: 'bias', type: 'VT', access: 'read', when: 'BIAS' },
    { name: 'C', type: 'VT', access: 'read_write' },
    ...EPILOGUE_BINDINGS,
  ],
  workgroupSize: 64,
  snippets: ['matmulEpilogue'],
});

interface Dims {
  batch: number;
  M: number;
  N: number;
  K: number;
  aBatch: number;
  bBatch: number;
}

function dims(a: Tensor, b: Tensor, transA: boolean, transB: boolean): Dims {
  if (a.rank < 2 || b.rank < 2 || a.rank > 3 || b.rank > 3) {
    throw new Error(`matmul: operands must be 2-D or 3-D (batched), got ${shapeString(a.shape)} and ${shapeString(b.shape)}`);
  }
  const aBatch = a.rank === 3 ? a.shape[0] : 1;
  const bBatch = b.rank === 3 ? b.shape[0] : 1;
  const [ar, ac] = a.shape.slice(-2);
  const [br, bc] = b.shape.slice(-2);
  const M = transA ? ac : ar;
  const K = transA ? ar : ac;
  const Kb = transB ? bc : br;
  const N = transB ? br : bc;
  if (K !== Kb || (aBatch !== bBatch && aBatch !== 1 && bBatch !== 1)) {
    throw new Error(
      `matmul: shapes ${shapeString(a.shape)}${transA ? 'ᵀ' : ''} and ${shapeString(b.shape)}${transB ? 'ᵀ' : ''} do not match (inner dims ${K} vs ${Kb})`,
    );
  }
  return { batch: Math.max(aBatch, bBatch), M, N, K, aBatch, bBatch };
}

/**
 * Kernel variants (shaders/matmul/matmul.wgsl). All compute C[z] = op(A[z])·op(B[z]) (+ bias) for
 * every layout; the choice is about speed only. Each is barrier-free and keeps a block of C in
 * registers: 8 rows x 16 columns per invocation (`-8x16`) or 4 x 8 (`-4x8`).
 * - `vec4-*`: B read as vec4 along N, C written as vec4; needs N % 4 == 0 and B not transposed.
 * - `scalar-*`: every operand element is a strided load: any layout (transB) and alignment.
 * A is always read through strides, so transA costs nothing extra; batch strides of 0 broadcast.
 * A batched product with a shared operand runs as one wider product (`fold`), and a transposed B
 * is first copied along N when enough rows reuse it (`stageB`).
 * - `vec4-subgroup` (shaders/matmul/matmul_subgroup.wgsl): on a CPU adapter with subgroups of
 *   exactly 8 lanes (lavapipe), 32 x 32 or 32 x 64 per subgroup with A shared by subgroupBroadcast;
 *   vec4 B, row epilogue, no column bias. Chosen whenever it applies and `tuning().matmulSubgroups`
 *   (1.2-1.8x the others' GFLOP/s there).
 * Launch-time choice: vec4 when it fits; the block shape and the arrangement of the workgroup's 64
 * invocations (wx along N, 64 / wx along M, a uniform) with the lowest estimated cost (`launchCost`).
 * The profiler's per-shape entries name the variant: `matmul/matmul vec4-8x16 b1 64x256x64`.
 */
export type MatmulVariant = 'vec4-8x16' | 'vec4-4x8' | 'scalar-8x16' | 'scalar-4x8' | 'vec4-subgroup';
const VARIANTS: readonly MatmulVariant[] = ['vec4-8x16', 'vec4-4x8', 'scalar-8x16', 'scalar-4x8', 'vec4-subgroup'];

export interface MatmulRawOptions {
  /** Forces a kernel variant (tests, benchmarks); it must fit: vec4 needs N % 4 == 0 and B read along N. */
  variant?: MatmulVariant;
  /**
   * With transB: copy Bᵀ into a staging buffer first (shaders/matmul/transpose.wgsl) so that the
   * product reads it along N. Default: when A has at least TRANSPOSE_MIN_ROWS rows (the copy is
   * paid once per element of B, the strided reads of a transposed B once per block of rows).
   */
  stageB?: boolean;
  /**
   * Batched products: run them as one wider product (default true) when an operand is shared:
   * a shared A folds the batches into the columns, a shared B (A not transposed) into the rows.
   */
  fold?: boolean;
  /**
   * Per-row epilogue fused into the stores (not with `bias`): C = act((AB + rowBias) * rowScale
   * + rowShift + residual), each optional; rows are op(A)'s rows (a convolution's channels).
   * Batched products then never fold their batches into the rows.
   */
  epilogue?: MatmulEpilogue;
}

/**
 * Rows of op(A) from which a transposed B is staged. Measured on lavapipe (CPU time): at 1024^3 a
 * product reading a transposed B in place costs 2-3x the product reading it along N (each
 * invocation streams 16 rows of B instead of one), while the copy costs about as much as a few
 * rows of the product per row of B; at 64 rows (conv1x1 weight gradients) both ways cost about
 * the same, below that the copy does not pay.
 */
const TRANSPOSE_MIN_ROWS = 32;

/** Block shapes: rows per invocation, vec4 column groups per invocation. */
const BLOCKS = { '8x16': [8, 4], '4x8': [4, 2] } as const;
/** Invocations along N in a workgroup of 64 (the other 64 / wx split the rows). */
const LANES_N = [64, 32, 16, 8, 4] as const;

interface Launch {
  variant: MatmulVariant;
  wx: number;
  /** The subgroup kernel's 64-column form (two column groups per lane). */
  cg2?: boolean;
  /** The subgroup kernel's subgroups per workgroup (8, or 4). */
  subgroups?: number;
}

/**
 * Estimated cost of a launch: invocations (edge blocks count in full) times the cost of one, per K
 * step: its loads (rt + 4*cv elements; a load costs about 9 simple instructions on CPU Vulkan,
 * where it runs lane by lane) plus its multiply-adds (4*rt*cv vector lanes).
 */
function launchCost(M: number, groups: number, rt: number, cv: number, wx: number): number {
  const invocations = Math.ceil(M / ((rt * 64) / wx)) * Math.ceil(groups / (wx * cv)) * 64;
  return invocations * (9 * (rt + 4 * cv) + 0.6 * 4 * rt * cv);
}

function chooseLaunch(M: number, N: number, vec4: boolean, forced?: MatmulVariant, subgroupKernel = false): Launch {
  const groups = Math.ceil(N / 4);
  if (forced === 'vec4-subgroup' || (!forced && subgroupKernel && vec4)) return { variant: 'vec4-subgroup', ...subgroupLaunch(M, groups) };
  let best: Launch & { cost: number } = { variant: 'scalar-4x8', wx: 64, cost: Infinity };
  for (const block of ['8x16', '4x8'] as const) {
    const variant: MatmulVariant = forced ?? `${vec4 ? 'vec4' : 'scalar'}-${block}`;
    if (forced && !forced.endsWith(block)) continue;
    const [rt, cv] = BLOCKS[block];
    for (const wx of LANES_N) {
      // ties go to the bigger block and to the wider row of invocations (listed first)
      const cost = launchCost(M, groups, rt, cv, wx);
      if (cost < best.cost) best = { variant, wx, cost };
    }
  }
  return best;
}

/** The matmul kernel without autograd; `bias` (length N) is added to every row. */
export function matmulRaw(a: Tensor, b: Tensor, transA = false, transB = false, bias?: Tensor, options: MatmulRawOptions = {}): Tensor {
  checkFloat('matmul', a, b);
  const d = dims(a, b, transA, transB);
  if (bias) {
    checkFloat('matmul', bias);
    if (bias.size !== d.N) {
      throw new Error(`matmul: bias ${shapeString(bias.shape)} does not fit the ${d.N} output columns of ${shapeString(a.shape)} x ${shapeString(b.shape)}`);
    }
  }
  const epi = options.epilogue;
  if (epi) checkEpilogue(epi, d, `matmul: epilogue of ${shapeString(a.shape)} x ${shapeString(b.shape)}`, !!bias);
  const rt = runtime();
  const max = rt.gpu.limits.maxComputeWorkgroupsPerDimension;
  // Batches folded into one product: rows of a stacked A over a shared B, or columns over a shared A.
  const fold = options.fold ?? true;
  const foldRows = fold && d.batch > 1 && d.bBatch === 1 && !transA && !epi;
  const foldCols = fold && d.batch > 1 && d.aBatch === 1 && !foldRows;
  const M = foldRows ? d.batch * d.M : d.M;
  const N = foldCols ? d.batch * d.N : d.N;
  const batches = foldRows || foldCols ? 1 : d.batch;
  const stage = transB && (options.stageB ?? M >= TRANSPOSE_MIN_ROWS) && Math.ceil(d.N / 32) <= max && d.bBatch <= max;
  const bAlongN = !transB || stage;
  const subgroupKernel = hasSubgroupKernel() && !bias;
  const { variant, wx, cg2, subgroups = 8 } = chooseLaunch(M, N, bAlongN && d.N % 4 === 0, options.variant, subgroupKernel && tuning().matmulSubgroups);
  if (!VARIANTS.includes(variant)) throw new Error(`matmul: unknown variant '${variant}' (one of ${VARIANTS.join(', ')})`);
  const vec4 = variant.startsWith('vec4');
  if (vec4 && (!bAlongN || d.N % 4 !== 0)) {
    throw new Error(`matmul: variant ${variant} needs N % 4 == 0 and B read along N (${shapeString(a.shape)} x ${shapeString(b.shape)}${transB ? 'ᵀ, not staged' : ''})`);
  }
  if (variant === 'vec4-subgroup' && !subgroupKernel) {
    throw new Error(`matmul: variant vec4-subgroup needs a CPU adapter with subgroups of 8 lanes (this one: ${rt.gpu.cpuAdapter ? 'CPU' : 'GPU'}, subgroups ${rt.gpu.subgroupSize || 'none'}) and no column bias`);
  }
  const outShape = a.rank === 3 || b.rank === 3 ? [d.batch, d.M, d.N] : [d.M, d.N];
  const out = empty(outShape);
  if (out.size === 0) return out;
  const subgroup = variant === 'vec4-subgroup';
  const [rows, cv] = BLOCKS[variant.endsWith('8x16') ? '8x16' : '4x8'];
  const groups = Math.ceil(N / 4);
  // the subgroup kernel: wx = subgroups along M, each 32 rows x 8 (cg2: 16) column groups
  const workgroups: [number, number, number] = subgroup
    ? [Math.ceil(groups / ((subgroups / wx) * (cg2 ? 16 : 8))), Math.ceil(M / (32 * wx)), batches]
    : [Math.ceil(groups / (wx * cv)), Math.ceil(M / ((rows * 64) / wx)), batches];
  if (workgroups.some((n) => n > max)) {
    throw new Error(`matmul: ${shapeString(a.shape)} x ${shapeString(b.shape)} needs workgroups [${workgroups.join(', ')}], above the device limit of ${max} per dimension`);
  }
  const uniforms = {
    M, N, K: d.K, groups,
    aBatch: d.aBatch === 1 || foldRows ? 0 : d.M * d.K, bBatch: d.bBatch === 1 ? 0 : d.K * d.N, cBatch: d.M * d.N, wx,
    sam: transA ? 1 : d.K, sak: transA ? d.M : 1, // A's element (m, k) is at m*sam + k*sak
    sbk: bAlongN ? (vec4 ? d.N / 4 : d.N) : 1, sbn: bAlongN ? 1 : d.K, // B's element (k, n) is at k*sbk + n*sbn
    zero: 0, nPer: d.N, epi: epi ? epilogueBits(epi) : 0,
  };
  const staged = stage ? transposeBatch(b, d.bBatch, d.N, d.K) : null;
  const bindings: Record<string, Tensor> = { A: a, B: staged ?? b, C: out };
  if (bias) bindings.bias = bias;
  if (epi) {
    // absent epilogue operands are bound to a placeholder (the epi bits skip them)
    const none = placeholder();
    Object.assign(bindings, { rowBias: epi.rowBias ?? none, rowScale: epi.rowScale ?? none, rowShift: epi.rowShift ?? none, residual: epi.residual ?? none });
  }
  const shape = () => `${variant} b${batches} ${M}x${N}x${d.K}`;
  if (subgroup) {
    matmulSubgroupKernel.dispatch({ defines: { EPI: !!epi, CG2: !!cg2, SUBGROUPS: subgroups }, uniforms, bindings, workgroups, shape });
  } else {
    const defines = { VEC4: vec4, RT8: rows === 8, CV4: cv === 4, BIAS: !!bias, EPI: !!epi };
    matmulKernel.dispatch({ defines, uniforms, bindings, workgroups, shape });
  }
  staged?.dispose(); // the pool reuses it only for work recorded after this product
  return out;
}
