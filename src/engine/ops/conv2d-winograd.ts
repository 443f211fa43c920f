/**
 * Winograd F(2x2, 3x3) convolution (Lavin & Gray, 2016) for 3x3, stride-1, undilated,
 * ungrouped convolutions: the forward pass, the input gradient (a 3x3 stride-1 convolution of
 * dy with the flipped, transposed kernel) and the weight gradient (the transposed passes).
 * Each 2x2 output tile costs 16 multiplies per input channel instead of 36, so the GEMM
 * shrinks 2.25x:
 *
 *   U[k] = (G g Gᵀ)[k]   [16, R, C]   conv2d_wino_weight.wgsl (R = GEMM rows: output channels,
 *                                      or input channels for the gradient; C = the reduced side)
 *   V[k] = (Bᵀ d B)[k]    [16, C, P]   conv2d_wino_input.wgsl  (P = N·⌈OH/2⌉·⌈OW/2⌉ tiles, rows padded to 4)
 *   M[k] = U[k] · V[k]   [16, R, P]   one batched matmul (matmul.ts)
 *   y    = Aᵀ M A        [N, R, OH, OW] conv2d_wino_output.wgsl, with the convolution's epilogue
 *
 * Weight gradient, the same passes transposed (exact: the Winograd forward equals the conv):
 *
 *   dM[k] = (A dy Aᵀ)[k] [16, R, P]   conv2d_wino_dout.wgsl
 *   dU[k] = dM[k] · V[k]ᵀ [16, R, C]  one batched matmul (K = P; V written as [16, P, C])
 *   dW    = Gᵀ dU G      [R, C, 3, 3] conv2d_wino_dweight.wgsl
 *
 * The transforms are memory passes (V and M hold 4x the input / output); they pay where the
 * GEMM is large. Accuracy: the transforms only add, subtract and halve, so results match the
 * direct GEMM to float32 rounding (the tests hold both to the same tolerance).
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
import { empty, type Tensor } from '../tensor.js';
import { matmulRaw } from './matmul.js';

// Shared WGSL fragments prepended: tile addressing, and the convolution epilogue.
const inputSource = tileSource + inputKernel;
const doutSource = tileSource + doutKernel;
const outputSource = tileSource + epilogueSource + outputKernel;

/** 'auto': where it is measured to pay (see `winogradPays`); 'always' / 'never': forced (tests, benchmarks). */
export type WinogradMode = 'auto' | 'always' | 'never';

let mode: WinogradMode = 'auto';

/** Chooses when 3x3 stride-1 convolutions (all three passes) run as Winograd F(2x2, 3x3). */
export function setConv2dWinograd(m: WinogradMode): void {
  if (!['auto', 'always', 'never'].includes(m)) throw new Error(`setConv2dWinograd: mode must be 'auto', 'always' or 'never', got ${JSON.stringify(m)}`);
  mode = m;
}

export function getConv2dWinograd(): WinogradMode {
  return mode;
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

/** Output tiles of the problem (2x2 outputs each). */
export function winogradTiles(p: Pick<WinogradProblem, 'N' | 'OH' | 'OW'>): number {
  return p.N * Math.ceil(p.OH / 2) * Math.ceil(p.OW / 2);
}

/**
 * Whether the problem runs as Winograd under the current mode. Automatic choice, from lavapipe
 * measurements against the direct implicit GEMM (forward, input and weight gradient): 1.2-2x faster
 * from 64 channels on both sides and 32 tiles up (ResNet-50 at batch 1 down to 14x14 maps,
 * ResNet-18 at batch 32 @64); slower on tiny tile counts (batch-1 7x7 maps: 16 tiles, 0.6-0.9x)
 * on narrow channel counts (K = C instead of 9C per product; 16-32 channels: 0.5-0.9x), and
 * on maps that tiles overhang (`multiplySaving`: 1x1 and 3x3 maps).
 * Only on the direct (CPU) schedule: not yet measured on a GPU, where the tiled kernel stays.
 */
export function winogradPays(p: WinogradProblem, direct: boolean): boolean {
  if (mode !== 'auto') return mode === 'always';
  return direct && winogradTiles(p) >= WINOGRAD_MIN_TILES && p.C >= WINOGRAD_MIN_CHANNELS && p.R >= WINOGRAD_MIN_CHANNELS &&
    multiplySaving(p) >= WINOGRAD_MIN_SAVING;
}

const WINOGRAD_MIN_TILES = 32;
const WINOGRAD_MIN_CHANNELS = 64;
const WINOGRAD_MIN_SAVING = 1.5;

/**
 * Multiplies of the direct convolution over those of Winograd: 2.25 on even maps, less where
 * tiles overhang the map (7x7: 1.72, 3x3: 1.27, 1x1: 0.56, i.e. 16 multiplies for 9 useful).
 */
function multiplySaving(p: WinogradProblem): number {
  return (9 * p.OH * p.OW) / (16 * Math.ceil(p.OH / 2) * Math.ceil(p.OW / 2));
}

/** Runs the four passes; `weight` is [R, C, 3, 3] (or [C, R, 3, 3] with `flip`). */
export function winogradConv(src: Tensor, weight: Tensor, out: Tensor, p: WinogradProblem, epi: WinogradEpilogue): void {
  const rt = runtime();
  const { TH, TW, P, PS } = tiling(p);
  const U = empty([16, p.R, p.C]);
  rt.dispatch({ name: 'conv2d_wino_weight', source: weightSource, defines: { FLIP: p.flip } }, {
    uniforms: new Uniforms().u32(p.R).u32(p.C).u32(0).u32(0),
    buffers: [weight.buffer, U.buffer],
    workgroups: rt.grid(Math.ceil((p.R * p.C) / 256)),
  });
  const V = inputTransform(src, p);
  const M = matmulRaw(U, V);
  U.dispose(); // the pool reuses them only for work recorded after the product
  V.dispose();
  rt.dispatch({ name: 'conv2d_wino_output', source: outputSource }, {
    uniforms: new Uniforms().u32(p.R).u32(P).u32(p.OH).u32(p.OW).u32(TH).u32(TW).u32(epi.bits).u32(PS),
    buffers: [M.buffer, out.buffer, epi.bias.buffer, epi.scale.buffer, epi.shift.buffer, epi.residual.buffer],
    workgroups: rt.grid(Math.ceil((p.R * PS) / 256)),
  });
  M.dispose();
}

/**
 * Weight gradient of the forward problem `p` (not flipped): x [N, C, H, W] and dy
 * [N, R, OH, OW] → dW [R, C, 3, 3].
 */
export function winogradGradWeight(x: Tensor, dy: Tensor, dW: Tensor, p: WinogradProblem): void {
  const rt = runtime();
  const { TH, TW, P, PS } = tiling(p);
  const Vt = inputTransform(x, p, true);
  const dM = empty([16, p.R, PS]);
  rt.dispatch({ name: 'conv2d_wino_dout', source: doutSource }, {
    uniforms: new Uniforms().u32(p.R).u32(P).u32(p.OH).u32(p.OW).u32(TH).u32(TW).u32(PS).u32(0),
    buffers: [dy.buffer, dM.buffer],
    workgroups: rt.grid(Math.ceil((p.R * PS) / 256)),
  });
  const dU = matmulRaw(dM, Vt);
  dM.dispose();
  Vt.dispose();
  rt.dispatch({ name: 'conv2d_wino_dweight', source: dweightSource }, {
    uniforms: new Uniforms().u32(p.R).u32(p.C).u32(0).u32(0),
    buffers: [dU.buffer, dW.buffer],
    workgroups: rt.grid(Math.ceil((p.R * p.C) / 256)),
  });
  dU.dispose();
}

/**
 * Tiles per image row and column, tiles P, and the row length PS of V and M: P rounded up to
 * 4 so that the batched matmul takes its vec4 path (25 % faster at P = 49, batch-1 14x14 maps).
 */
function tiling(p: WinogradProblem): { TH: number; TW: number; P: number; PS: number } {
  const TH = Math.ceil(p.OH / 2);
  const TW = Math.ceil(p.OW / 2);
  const P = p.N * TH * TW;
  return { TH, TW, P, PS: Math.ceil(P / 4) * 4 };
}

/**
 * V [16, C, PS] = Bᵀ d B of every input patch, zero padding columns (conv2d_wino_input.wgsl);
 * `transposed`: as [16, PS, C], the layout the weight gradient's product reads along N.
 */
function inputTransform(src: Tensor, p: WinogradProblem, transposed = false): Tensor {
  const rt = runtime();
  const { TH, TW, P, PS } = tiling(p);
  const V = empty(transposed ? [16, PS, p.C] : [16, p.C, PS]);
  rt.dispatch({ name: 'conv2d_wino_input', source: inputSource, defines: { PMAJOR: transposed } }, {
    uniforms: new Uniforms().u32(p.C).u32(P).u32(p.H).u32(p.W).u32(TH).u32(TW).i32(p.padH).i32(p.padW).u32(PS).u32(0).u32(0).u32(0),
    buffers: [src.buffer, V.buffer],
    workgroups: rt.grid(Math.ceil((p.C * PS) / 256)),
  });
  return V;
}
