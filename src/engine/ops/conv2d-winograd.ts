/**
 * Winograd F(m x m, 3x3) convolution (Lavin & Gray, 2016), m = 2 or 4, for 3x3, stride-1,
 * undilated, ungrouped convolutions: the forward pass, the input gradient (a 3x3 stride-1
 * convolution of dy with the flipped, transposed kernel) and the weight gradient (the
 * transposed passes). An m x m output tile costs t² = (m + 2)² multiplies per input channel
 * instead of 9m², so the GEMM shrinks 2.25x (m = 2) or 4x (m = 4):
 *
 *   U[k] = (G g Gᵀ)[k]    [t², R, C]  conv2d_wino_weight.wgsl (R = GEMM rows: output channels,
 *                                      or input channels for the gradient; C = the reduced side)
 *   V[k] = (Bᵀ d B)[k]    [t², C, P]  conv2d_wino_input.wgsl  (P = N·⌈OH/m⌉·⌈OW/m⌉ tiles, rows padded to 4)
 *   M[k] = U[k] · V[k]    [t², R, P]  one batched matmul (matmul.ts)
 *   y    = Aᵀ M A         [N, R, OH, OW] conv2d_wino_output.wgsl, with the convolution's epilogue
 *
 * or tile-major where tiles are fewer than rows (`tileMajor`): U stored [t², C, R], V [t², P, C],
 * and the product Mᵀ[k] = Vᵀ[k] · Uᵀ[k] [t², P, R] read transposed by the output transform.
 *
 * Weight gradient, the same passes transposed (exact: the Winograd forward equals the conv):
 *
 *   dM[k] = (A dy Aᵀ)[k]  [t², R, P]  conv2d_wino_dout.wgsl
 *   dU[k] = dM[k] · V[k]ᵀ [t², R, C]  one batched matmul (K = P; V written as [t², P, C])
 *   dW    = Gᵀ dU G       [R, C, 3, 3] conv2d_wino_dweight.wgsl
 *
 * The transforms' arithmetic is straight-line WGSL generated from the matrices
 * (winograd-transforms.ts). They are memory passes (V holds t²/m² = 4x or 2.25x the input);
 * they pay where the GEMM is large. Accuracy: F(2x2) only adds, subtracts and halves (float32
 * rounding, like the direct GEMM); F(4x4)'s larger coefficients cost about one decimal digit.
 */
import inputKernel from '../../../shaders/conv2d_wino_input.wgsl';
import weightSource from '../../../shaders/conv2d_wino_weight.wgsl';
import outputKernel from '../../../shaders/conv2d_wino_output.wgsl';
import doutKernel from '../../../shaders/conv2d_wino_dout.wgsl';
import dweightSource from '../../../shaders/conv2d_wino_dweight.wgsl';
import tileSource from '../../../shaders/conv2d_wino_tile.wgsl';
import epilogueSource from '../../../shaders/conv2d_epilogue.wgsl';
import { runtime } from '../runtime.js';
import { Uniforms } from '../uniforms.js';
import type { Defines } from '../pipelines.js';
import { empty, type Tensor } from '../tensor.js';
import { matmulRaw } from './matmul.js';
import { winogradMatrices, twoSidedCode, eachCell, type WinogradM } from './winograd-transforms.js';

export type { WinogradM } from './winograd-transforms.js';

/** 'auto': where it is measured to pay (see `winogradTile`); 'always' / 'never': forced (tests, benchmarks). */
export type WinogradMode = 'auto' | 'always' | 'never';

let mode: WinogradMode = 'auto';
let forcedTile: WinogradM | null = null;

/**
 * Chooses when 3x3 stride-1 convolutions (all three passes) run as Winograd, and optionally
 * the tile (F(2x2, 3x3) or F(4x4, 3x3)) for all of them; by default the tile is chosen per shape.
 */
export function setConv2dWinograd(m: WinogradMode, tile: WinogradM | null = null): void {
  if (!['auto', 'always', 'never'].includes(m)) throw new Error(`setConv2dWinograd: mode must be 'auto', 'always' or 'never', got ${JSON.stringify(m)}`);
  if (tile !== null && tile !== 2 && tile !== 4) throw new Error(`setConv2dWinograd: tile must be 2, 4 or null (per shape), got ${JSON.stringify(tile)}`);
  mode = m;
  forcedTile = tile;
}

export function getConv2dWinograd(): WinogradMode {
  return mode;
}

/**
 * Layout of the forward / input-gradient product (see `winogradConv`): 'channel-major'
 * M[k] = U[k] · V[k] ([t², R, P]) or 'tile-major' Mᵀ[k] = Vᵀ[k] · Uᵀ[k] ([t², P, R]);
 * 'auto' picks the one whose product has the wider output rows.
 */
export type WinogradLayout = 'auto' | 'channel-major' | 'tile-major';

let layoutSetting: WinogradLayout = 'auto';

/** Forces the product layout of the Winograd forward and input gradient (tests, benchmarks). */
export function setConv2dWinogradLayout(layout: WinogradLayout): void {
  if (!['auto', 'channel-major', 'tile-major'].includes(layout)) {
    throw new Error(`setConv2dWinogradLayout: layout must be 'auto', 'channel-major' or 'tile-major', got ${JSON.stringify(layout)}`);
  }
  layoutSetting = layout;
}

/**
 * Whether the product runs tile-major: where there are fewer tiles than GEMM rows (ResNet-18
 * b32@64 layers 3 and 4: 32 tiles, 256-512 channels) a channel-major product is a stack of
 * 32-column matrices, which the matmul runs with its small block at 5 GFLOP/s; the same
 * product transposed (32 rows, 256-512 columns) measured 1.3-1.6x faster on lavapipe.
 */
function tileMajor(p: WinogradProblem, PS: number): boolean {
  return layoutSetting === 'auto' ? PS < p.R : layoutSetting === 'tile-major';
}

/** One Winograd convolution: src [N, C, H, W] → out [N, R, OH, OW] with OH = H + 2·padH − 2. */
export interface WinogradProblem {
  N: number; C: number; H: number; W: number;
  R: number; OH: number; OW: number;
  padH: number; padW: number;
  /** Input gradient: the weight [Cout = C, Cin = R, 3, 3] is used flipped and transposed. */
  flip: boolean;
}

/** Epilogue operands (absent ones bound to `placeholder`) and their bits, as conv2d.wgsl uses them. */
export interface WinogradEpilogue {
  bits: number;
  bias: Tensor; scale: Tensor; shift: Tensor; residual: Tensor;
}

/** Output tiles of the problem with m x m outputs each. */
function winogradTiles(p: Pick<WinogradProblem, 'N' | 'OH' | 'OW'>, m: WinogradM = 2): number {
  return p.N * Math.ceil(p.OH / m) * Math.ceil(p.OW / m);
}

/**
 * The tile the problem runs with (null: not Winograd) under the current mode. Automatic choice,
 * from lavapipe measurements against the direct implicit GEMM (forward, input and weight
 * gradient): F(2x2) is 1.2-2x faster from 64 channels on both sides and 32 tiles up (ResNet-50
 * at batch 1 down to 14x14 maps, ResNet-18 at batch 32 @64); slower on tiny tile counts (batch-1
 * 7x7 maps: 16 tiles, 0.6-0.9x), on narrow channel counts (K = C instead of 9C per product;
 * 16-32 channels: 0.5-0.9x), and on maps that tiles overhang (`multiplySaving`: 1x1 and 3x3
 * maps). F(4x4) where it saves clearly more multiplies than F(2x2) with as many tiles: measured
 * 1.1-1.9x faster than F(2x2) on ResNet-18 b32@64 (16x16 to 3x3 maps) and ResNet-50 b1 56x56 and
 * 28x28 maps, slower only below 32 tiles (batch-1 14x14: 16 tiles, 0.6x).
 * Only on the direct (CPU) schedule: not yet measured on a GPU, where the tiled kernel stays.
 */
export function winogradTile(p: WinogradProblem, direct: boolean): WinogradM | null {
  if (mode === 'never') return null;
  const fits = (m: WinogradM) => winogradTiles(p, m) >= WINOGRAD_MIN_TILES && multiplySaving(p, m) >= WINOGRAD_MIN_SAVING;
  const best: WinogradM = fits(4) && multiplySaving(p, 4) >= F4_MIN_GAIN * multiplySaving(p, 2) ? 4 : 2;
  if (mode === 'always') return forcedTile ?? best;
  const wide = direct && p.C >= WINOGRAD_MIN_CHANNELS && p.R >= WINOGRAD_MIN_CHANNELS;
  return wide && fits(best) ? forcedTile ?? best : null;
}

const WINOGRAD_MIN_TILES = 32;
const WINOGRAD_MIN_CHANNELS = 64;
const WINOGRAD_MIN_SAVING = 1.5;
/** F(4x4) is chosen over F(2x2) when it saves this much more (its transforms cost more). */
const F4_MIN_GAIN = 1.3;

/**
 * Multiplies of the direct convolution over those of Winograd F(m x m): 2.25 (m = 2) or 4
 * (m = 4) on maps that are multiples of m, less where tiles overhang the map (m = 2 on 7x7:
 * 1.72, 3x3: 1.27, 1x1: 0.56, i.e. 16 multiplies for 9 useful).
 */
function multiplySaving(p: WinogradProblem, m: WinogradM): number {
  return (9 * p.OH * p.OW) / ((m + 2) ** 2 * Math.ceil(p.OH / m) * Math.ceil(p.OW / m));
}

/** Runs the four passes with m x m tiles; `weight` is [R, C, 3, 3] (or [C, R, 3, 3] with `flip`). */
export function winogradConv(src: Tensor, weight: Tensor, out: Tensor, p: WinogradProblem, epi: WinogradEpilogue, m: WinogradM): void {
  const rt = runtime();
  const { TH, TW, P, PS, T2 } = tiling(p, m);
  const transposed = tileMajor(p, PS);
  const U = empty(transposed ? [T2, p.C, p.R] : [T2, p.R, p.C]);
  rt.dispatchSource(kernel('weight', m, { FLIP: p.flip, TRANSPOSED: transposed }), {
    uniforms: new Uniforms().u32(p.R).u32(p.C).u32(0).u32(0),
    buffers: [weight.buffer, U.buffer],
    workgroups: rt.grid(Math.ceil((p.R * p.C) / 256)),
    shape: () => problemShape(p),
  });
  const V = inputTransform(src, p, m, transposed);
  const M = transposed ? matmulRaw(V, U) : matmulRaw(U, V);
  U.dispose(); // the pool reuses them only for work recorded after the product
  V.dispose();
  rt.dispatchSource(kernel('output', m, { TRANSPOSED: transposed }), {
    uniforms: new Uniforms().u32(p.R).u32(P).u32(p.OH).u32(p.OW).u32(TH).u32(TW).u32(epi.bits).u32(PS),
    buffers: [M.buffer, out.buffer, epi.bias.buffer, epi.scale.buffer, epi.shift.buffer, epi.residual.buffer],
    workgroups: rt.grid(Math.ceil((p.R * PS) / 256)),
    shape: () => problemShape(p),
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
  rt.dispatchSource(kernel('dout', m), {
    uniforms: new Uniforms().u32(p.R).u32(P).u32(p.OH).u32(p.OW).u32(TH).u32(TW).u32(PS).u32(0),
    buffers: [dy.buffer, dM.buffer],
    workgroups: rt.grid(Math.ceil((p.R * PS) / 256)),
    shape: () => problemShape(p),
  });
  const dU = matmulRaw(dM, Vt);
  dM.dispose();
  Vt.dispose();
  // Four filters per thread with vec4 loads and stores (a vec4 access costs about 2.7 scalar ones
  // on lavapipe): 25 accesses for 4 filters instead of 100, weights [512, 512, 3, 3] 7.4 -> 5.1-6.2 ms per dispatch.
  // Only for F(2x2): with F(4x4)'s 36 values per filter the vec4 registers spill (3.8 -> 7.0 ms).
  // (The same for the forward transform did not pay: 1.0x where the filters are neighbours in
  // the weights, 0.6x where they are not.)
  const vec4 = m === 2 && p.C % 4 === 0;
  rt.dispatchSource(kernel('dweight', m, { VEC4: vec4 }), {
    uniforms: new Uniforms().u32(p.R).u32(p.C).u32(0).u32(0),
    buffers: [dU.buffer, dW.buffer],
    workgroups: rt.grid(Math.ceil((p.R * p.C) / (vec4 ? 1024 : 256))),
    shape: () => problemShape(p),
  });
  dU.dispose();
}

/** The problem's shape for the profiler: input [N, C, H, W] → R channels. */
function problemShape(p: WinogradProblem): string {
  return `${p.N}x${p.C}x${p.H}x${p.W}→${p.R}`;
}

/**
 * Tiles per image row and column, tiles P, the row length PS of V and M (P rounded up to 4 so
 * that the batched matmul takes its vec4 path: 25 % faster at P = 49, batch-1 14x14 maps), and
 * the number of products t².
 */
function tiling(p: WinogradProblem, m: WinogradM): { TH: number; TW: number; P: number; PS: number; T2: number } {
  const TH = Math.ceil(p.OH / m);
  const TW = Math.ceil(p.OW / m);
  const P = p.N * TH * TW;
  return { TH, TW, P, PS: Math.ceil(P / 4) * 4, T2: (m + 2) ** 2 };
}

/**
 * V [t², C, PS] = Bᵀ d B of every input patch, zero padding columns (conv2d_wino_input.wgsl);
 * `transposed`: as [t², PS, C], the layout the weight gradient's product reads along N.
 */
function inputTransform(src: Tensor, p: WinogradProblem, m: WinogradM, transposed = false): Tensor {
  const rt = runtime();
  const { TH, TW, P, PS, T2 } = tiling(p, m);
  const V = empty(transposed ? [T2, PS, p.C] : [T2, p.C, PS]);
  rt.dispatchSource(kernel('input', m, { PMAJOR: transposed }), {
    uniforms: new Uniforms().u32(p.C).u32(P).u32(p.H).u32(p.W).u32(TH).u32(TW).i32(p.padH).i32(p.padW).u32(PS).u32(0).u32(0).u32(0),
    buffers: [src.buffer, V.buffer],
    workgroups: rt.grid(Math.ceil((p.C * PS) / 256)),
    shape: () => problemShape(p),
  });
  return V;
}

type Pass = 'input' | 'weight' | 'output' | 'dout' | 'dweight';

/** The WGSL templates of the passes, with their shared fragments prepended. */
const TEMPLATES: Record<Pass, string> = {
  input: tileSource + inputKernel,
  weight: weightSource,
  output: tileSource + epilogueSource + outputKernel,
  dout: tileSource + doutKernel,
  dweight: dweightSource,
};

const sources = new Map<string, string>();

/**
 * The kernel of one pass for m x m tiles: its template with the generated LOADS / TRANSFORM /
 * STORES written in once per (pass, m, flip), so that a dispatch's pipeline key stays short.
 */
function kernel(pass: Pass, m: WinogradM, defines: { FLIP?: boolean; PMAJOR?: boolean; TRANSPOSED?: boolean; VEC4?: boolean } = {}): { name: string; source: string; defines: Defines } {
  const flip = pass === 'weight' && defines.FLIP === true;
  const vec4 = pass === 'dweight' && defines.VEC4 === true;
  const name = `conv2d_wino_${pass}_${m}x${m}${flip ? '_flip' : ''}${vec4 ? '_v4' : ''}`;
  let source = sources.get(name);
  if (source === undefined) {
    const c = generatedCode(pass, m, flip, vec4);
    source = TEMPLATES[pass].replace('${LOADS}', c.LOADS).replace('${TRANSFORM}', c.TRANSFORM).replace('${STORES}', c.STORES);
    sources.set(name, source);
  }
  return { name, source, defines: { M: m, ...defines, VEC4: vec4 } };
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
