/**
 * The Winograd algorithm over the kernels `conv2d/wino_*` (one file each): Winograd F(m x m, 3x3) convolution (Lavin & Gray, 2016), m = 2 or 4,
 * for 3x3, stride-1, undilated, ungrouped convolutions: the forward pass, the input gradient (a
 * 3x3 stride-1 convolution of dy with the flipped, transposed kernel) and the weight gradient
 * (the transposed passes). An m x m output tile costs t² = (m + 2)² multiplies per input channel
 * instead of 9m², so the GEMM shrinks 2.25x (m = 2) or 4x (m = 4):
 *
 *   U[k] = (G g Gᵀ)[k]    [t², R, C]  wino_weight (R = GEMM rows: output channels, or input
 *                                      channels for the gradient; C = the reduced side)
 *   V[k] = (Bᵀ d B)[k]    [t², C, P]  wino_input  (P = N·⌈OH/m⌉·⌈OW/m⌉ tiles, rows padded to 4)
 *   M[k] = U[k] · V[k]    [t², R, P]  one batched matmul (matmul.ts)
 *   y    = Aᵀ M A         [N, R, OH, OW] wino_output, with the convolution's epilogue
 *
 * or tile-major (`tuning().winogradLayout`, 'auto': where tiles are fewer than rows): U stored
 * [t², C, R], V [t², P, C], and the product Mᵀ[k] = Vᵀ[k] · Uᵀ[k] [t², P, R] read transposed by
 * the output transform.
 *
 * Weight gradient, the same passes transposed (exact: the Winograd forward equals the conv):
 *
 *   dM[k] = (A dy Aᵀ)[k]  [t², R, P]  wino_dout
 *   dU[k] = dM[k] · V[k]ᵀ [t², R, C]  one batched matmul (K = P; V written as [t², P, C])
 *   dW    = Gᵀ dU G       [R, C, 3, 3] wino_dweight
 *
 * The transforms' arithmetic is straight-line WGSL generated from the matrices
 * (winograd-matrices.ts) and given to the kernels as the defines LOADS, TRANSFORM and STORES.
 * They are memory passes (V holds t²/m² = 4x or 2.25x the input); they pay where the GEMM is
 * large. Accuracy: F(2x2) only adds, subtracts and halves (float32 rounding, like the direct
 * GEMM); F(4x4)'s larger coefficients cost about one decimal digit.
 */
import { winoInputKernel } from './wino_input.js';
import { winoWeightKernel } from './wino_weight.js';
import { winoOutputKernel } from './wino_output.js';
import { winoDoutKernel } from './wino_dout.js';
import { winoDweightKernel } from './wino_dweight.js';
import { runtime } from '../../runtime.js';
import { tuning } from '../../tuning.js';
import { empty, type Tensor } from '../../tensor.js';
import { matmulRaw } from '../matmul/matmul.js';
import { epilogueBindings, epilogueBits, type Epi } from './epilogue.js';
import { winogradMatrices, twoSidedCode, eachCell, type WinogradM } from './winograd-matrices.js';

export type { WinogradM } from './winograd-matrices.js';

/** Threads per workgroup of every transform kernel (one element or tile each). */
const WORKGROUP = 256;

/** One Winograd convolution: src [N, C, H, W] → out [N, R, OH, OW] with OH = H + 2·padH − 2. */
export interface WinogradProblem {
  N: number; C: number; H: number; W: number;
  R: number; OH: number; OW: number;
  padH: number; padW: number;
  /** Input gradient: the weight [Cout = C, Cin = R, 3, 3] is used flipped and transposed. */
  flip: boolean;
}

/**
 * Whether the product runs tile-major: where there are fewer tiles than GEMM rows a
 * channel-major product is a stack of narrow matrices, which the matmul runs with its small
 * block; the same product transposed is wider (see docs/conv2d.md).
 */
function tileMajor(p: WinogradProblem, PS: number): boolean {
  const layout = tuning().winogradLayout;
  return layout === 'auto' ? PS < p.R : layout === 'tile-major';
}

/** Runs the four passes with m x m tiles; `weight` is [R, C, 3, 3] (or [C, R, 3, 3] with `flip`). */
export function winogradConv(src: Tensor, weight: Tensor, out: Tensor, p: WinogradProblem, epi: Epi, m: WinogradM): void {
  const rt = runtime();
  const { TH, TW, P, PS, T2 } = tiling(p, m);
  const transposed = tileMajor(p, PS);
  const U = empty(transposed ? [T2, p.C, p.R] : [T2, p.R, p.C]);
  winoWeightKernel.dispatch({
    defines: variant('weight', m, { FLIP: p.flip, TRANSPOSED: transposed }),
    uniforms: { R: p.R, Ccols: p.C },
    bindings: { w: weight, U },
    workgroups: rt.grid(Math.ceil((p.R * p.C) / WORKGROUP)),
    shape: () => problemShape(p, m),
  });
  const V = inputTransform(src, p, m, transposed);
  const M = transposed ? matmulRaw(V, U) : matmulRaw(U, V);
  U.dispose(); // the pool reuses them only for work recorded after the product
  V.dispose();
  winoOutputKernel.dispatch({
    defines: variant('output', m, { TRANSPOSED: transposed }),
    uniforms: { R: p.R, P, OH: p.OH, OW: p.OW, TH, TW, epi: epilogueBits(epi), PS },
    bindings: { m: M, Y: out, ...epilogueBindings(epi) },
    workgroups: rt.grid(Math.ceil((p.R * PS) / WORKGROUP)),
    shape: () => problemShape(p, m),
  });
  M.dispose();
}

/**
 * Weight gradient of the forward problem `p` (not flipped) with m x m tiles: x [N, C, H, W]
 * and dy [N, R, OH, OW] → dW [R, C, 3, 3].
 */
export function winogradGradWeight(x: Tensor, dy: Tensor, dW: Tensor, p: WinogradProblem, m: WinogradM): void {
  const rt = runtime();
  const { TH, TW, P, PS, T2 } = tiling(p, m);
  const Vt = inputTransform(x, p, m, true);
  const dM = empty([T2, p.R, PS]);
  winoDoutKernel.dispatch({
    defines: variant('dout', m),
    uniforms: { R: p.R, P, OH: p.OH, OW: p.OW, TH, TW, PS },
    bindings: { dy, dM },
    workgroups: rt.grid(Math.ceil((p.R * PS) / WORKGROUP)),
    shape: () => problemShape(p, m),
  });
  const dU = matmulRaw(dM, Vt);
  dM.dispose();
  Vt.dispose();
  // Four filters per thread with vec4 loads and stores for F(2x2) (25 accesses for 4 filters
  // instead of 100); not for F(4x4), whose 36 values per filter would spill the vec4 registers.
  const vec4 = m === 2 && p.C % 4 === 0;
  winoDweightKernel.dispatch({
    defines: variant('dweight', m, { VEC4: vec4 }),
    uniforms: { R: p.R, Ccols: p.C },
    bindings: { dU, dW },
    workgroups: rt.grid(Math.ceil((p.R * p.C) / (vec4 ? 4 * WORKGROUP : WORKGROUP))),
    shape: () => problemShape(p, m),
  });
  dU.dispose();
}

/** The problem's shape for the profiler: input [N, C, H, W] → R channels, and the tile. */
function problemShape(p: WinogradProblem, m: WinogradM): string {
  return `${p.N}x${p.C}x${p.H}x${p.W}→${p.R} F${m}x${m}`;
}

/**
 * Tiles per image row and column, tiles P, the row length PS of V and M (P rounded up to 4 so
 * that the batched matmul takes its vec4 path), and the number of products t².
 */
function tiling(p: WinogradProblem, m: WinogradM): { TH: number; TW: number; P: number; PS: number; T2: number } {
  const TH = Math.ceil(p.OH / m);
  const TW = Math.ceil(p.OW / m);
  const P = p.N * TH * TW;
  return { TH, TW, P, PS: Math.ceil(P / 4) * 4, T2: (m + 2) ** 2 };
}

/**
 * V [t², C, PS] = Bᵀ d B of every input patch, zero padding columns (wino_input);
 * `transposed`: as [t², PS, C], the layout the weight gradient's product reads along N.
 */
function inputTransform(src: Tensor, p: WinogradProblem, m: WinogradM, transposed = false): Tensor {
  const { TH, TW, P, PS, T2 } = tiling(p, m);
  const V = empty(transposed ? [T2, PS, p.C] : [T2, p.C, PS]);
  winoInputKernel.dispatch({
    defines: variant('input', m, { PMAJOR: transposed }),
    uniforms: { C: p.C, P, H: p.H, W: p.W, TH, TW, padH: p.padH, padW: p.padW, PS },
    bindings: { x: src, V },
    workgroups: runtime().grid(Math.ceil((p.C * PS) / WORKGROUP)),
    shape: () => problemShape(p, m),
  });
  return V;
}

type Pass = 'input' | 'weight' | 'output' | 'dout' | 'dweight';
type PassFlags = { FLIP?: boolean; PMAJOR?: boolean; TRANSPOSED?: boolean; VEC4?: boolean };

const generated = new Map<string, { LOADS: string; TRANSFORM: string; STORES: string }>();

/** The defines of one pass for m x m tiles: its flags and the generated code (made once per pass, m, flip, vec4). */
function variant(pass: Pass, m: WinogradM, flags: PassFlags = {}): Record<string, string | number | boolean> {
  const flip = pass === 'weight' && flags.FLIP === true;
  const vec4 = pass === 'dweight' && flags.VEC4 === true;
  const key = `${pass}${m}${flip ? 'f' : ''}${vec4 ? 'v' : ''}`;
  let code = generated.get(key);
  if (!code) {
    code = generatedCode(pass, m, flip, vec4);
    generated.set(key, code);
  }
  return { M: m, ...flags, VEC4: vec4, ...code };
}

/**
 * The generated straight-line WGSL of one pass for m x m tiles (names: d/g/mv/dy/du for the
 * loaded tile, v/u/y/dm/dg for the transformed one; k = t·i + j indexes the t² products).
 */
function generatedCode(pass: Pass, m: WinogradM, flip: boolean, vec4: boolean): { LOADS: string; TRANSFORM: string; STORES: string } {
  const t = m + 2;
  const f = winogradMatrices(m);
  const k = (i: number, j: number) => `${t * i + j}u`;
  if (pass === 'dweight' && vec4) {
    // value e of the four filters' 36 consecutive weights: tap e % 9 of filter e / 9
    const value = (e: number) => `dg_${Math.floor((e % 9) / 3)}_${e % 3}[${Math.floor(e / 9)}]`;
    return {
      LOADS: eachCell(t, t, (i, j) => `let du_${i}_${j} = dU[${k(i, j)} * plane4 + i];`),
      TRANSFORM: twoSidedCode(f.GT, f.GT, (i, j) => `du_${i}_${j}`, 'dg'),
      STORES: Array.from({ length: 9 }, (_, s) => `dW[o4 + ${s}u] = vec4f(${[0, 1, 2, 3].map((c) => value(4 * s + c)).join(', ')});`).join('\n  '),
    };
  }
  switch (pass) {
    case 'input': return {
      LOADS: eachCell(t, t, (r, c) => `let d_${r}_${c} = at(base, y0 + ${r}, x0 + ${c}, valid);`),
      TRANSFORM: twoSidedCode(f.BT, f.BT, (r, c) => `d_${r}_${c}`, 'v'),
      STORES: eachCell(t, t, (i, j) => `V[${k(i, j)} * plane + i] = v_${i}_${j};`),
    };
    case 'weight': return {
      LOADS: eachCell(3, 3, (a, b) => `let g_${a}_${b} = w[base + ${flip ? 8 - (3 * a + b) : 3 * a + b}u];`),
      TRANSFORM: twoSidedCode(f.G, f.G, (a, b) => `g_${a}_${b}`, 'u'),
      STORES: eachCell(t, t, (i, j) => `U[${k(i, j)} * plane + i] = u_${i}_${j};`),
    };
    case 'output': return {
      LOADS: eachCell(t, t, (i, j) => `let mv_${i}_${j} = m[${k(i, j)} * plane + i];`),
      TRANSFORM: twoSidedCode(f.AT, f.AT, (i, j) => `mv_${i}_${j}`, 'y'),
      STORES: eachCell(m, m, (i, j) => `store(r, oy + ${i}u, ox + ${j}u, imgBase, y_${i}_${j});`),
    };
    case 'dout': return {
      LOADS: eachCell(m, m, (i, j) => `let dy_${i}_${j} = at(base, oy + ${i}u, ox + ${j}u, valid);`),
      TRANSFORM: twoSidedCode(f.A, f.A, (i, j) => `dy_${i}_${j}`, 'dm'),
      STORES: eachCell(t, t, (i, j) => `dM[${k(i, j)} * plane + i] = dm_${i}_${j};`),
    };
    case 'dweight': return {
      LOADS: eachCell(t, t, (i, j) => `let du_${i}_${j} = dU[${k(i, j)} * plane + i];`),
      TRANSFORM: twoSidedCode(f.GT, f.GT, (i, j) => `du_${i}_${j}`, 'dg'),
      STORES: eachCell(3, 3, (a, b) => `dW[o + ${3 * a + b}u] = dg_${a}_${b};`),
    };
  }
}
