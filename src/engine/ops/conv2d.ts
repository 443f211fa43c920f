/**
 * 2-D convolution (PyTorch's `conv2d`, cross-correlation): the differentiable op `conv2d`, the
 * inference entry `conv2dRaw` (fused epilogue) and the two gradients. Layouts: images NCHW;
 * weights in PyTorch's `[Cout, Cin/groups, kh, kw]`, used as-is.
 *
 * Each pass runs as one of five algorithms, chosen in one place (kernels/conv2d/algorithm.ts;
 * `conv2dAlgorithm` tells which, docs/conv2d.md says why): the implicit GEMM (no im2col buffer)
 * on the 'tiled' (GPU) or 'direct' (CPU adapter) schedule, Winograd F(2x2, 3x3) or F(4x4, 3x3),
 * the matmul kernel for 1x1 convolutions, the depthwise kernels (groups = Cin) or the grouped
 * kernel (narrow groups). The knobs are `tuning()`'s convSchedule, winograd,
 * winogradTile, winogradLayout, convDirectTile, convSubgroups and convDepthwise (`tune({...})` changes them).
 */
import { empty, type Tensor, type Shape, shapeString } from '../tensor.js';
import { record } from '../tape.js';
import { checkDtype, checkFloat } from '../checks.js';
import { tuning, withTuning, type Tuning } from '../tuning.js';
import { reduceSum } from '../kernels/reduce/sum.js';
import { conv2dGeometry, type Conv2dGeometry, type ConvOptions } from '../kernels/conv2d/geometry.js';
import { chooseConvAlgorithm, winogradTileOf, type ConvAlgorithm, type ConvPass, type ChooseOptions } from '../kernels/conv2d/algorithm.js';
import { resolveSchedule } from '../kernels/conv2d/schedule.js';
import { gemmForward, gemmGradInput } from '../kernels/conv2d/gemm.js';
import { gemmGradWeight } from '../kernels/conv2d/wgrad.js';
import { winogradConv, winogradGradWeight } from '../kernels/conv2d/winograd.js';
import { pointwiseForward, pointwiseGradInput, pointwiseGradWeight } from '../kernels/conv2d/pointwise.js';
import { depthwiseForward } from '../kernels/conv2d/depthwise.js';
import { groupedForward, groupedGradInput } from '../kernels/conv2d/grouped.js';
import { groupedStridedGradInput } from '../kernels/conv2d/grouped_dgrad.js';
import { depthwiseGradInput } from '../kernels/conv2d/depthwise_dgrad.js';
import { depthwiseGradWeight } from '../kernels/conv2d/depthwise_wgrad.js';

export { conv2dGeometry, type Conv2dGeometry, type ConvOptions } from '../kernels/conv2d/geometry.js';
export { chooseConvAlgorithm, type ConvAlgorithm, type ConvPass, type ConvChoice } from '../kernels/conv2d/algorithm.js';
export type { WinogradM } from '../kernels/conv2d/winograd.js';

/**
 * Fused forward epilogue, for eval-mode batchnorm folding: per output channel c,
 *   y = relu?( (conv(x) + bias[c]) * scale[c] + shift[c] + residual )
 * with every part optional. `scale`/`shift` are [Cout] (e.g. from `foldBatchNorm`), both or
 * neither; `residual` has the output's shape (a ResNet block's shortcut); `relu` applies last.
 * No autograd: for inference.
 */
export interface ConvEpilogue {
  scale?: Tensor;
  shift?: Tensor;
  residual?: Tensor;
  relu?: boolean;
}

/** A convolution schedule setting ('auto': by adapter). */
export type ConvStrategy = Tuning['convSchedule'];

/** The schedule a setting resolves to on this adapter (default: `tuning().convSchedule`): 'direct' on CPU implementations. */
export function conv2dResolvedStrategy(strategy?: ConvStrategy): 'tiled' | 'direct' {
  return resolveSchedule(strategy);
}

/**
 * The algorithm a convolution pass runs with: 'winograd-2x2' / 'winograd-4x4' (F(m x m, 3x3)),
 * 'matmul' (1x1 convolutions as the matmul kernel), 'depthwise' (groups = Cin), 'grouped'
 * (narrow groups) or 'gemm' (the
 * implicit GEMM). By default
 * that of the raw entries (conv2dRaw, conv2dGradInput, conv2dGradWeight); `autograd`: that of
 * the differentiable `conv2d`.
 */
export function conv2dAlgorithm(xShape: Shape, wShape: Shape, opts: ConvOptions = {}, pass: ConvPass = 'forward', strategy?: ConvStrategy, autograd = false): ConvAlgorithm {
  return chooseConvAlgorithm(conv2dGeometry(xShape, wShape, opts), pass, { schedule: strategy, autograd }).algorithm;
}

function checkChannelVector(op: string, t: Tensor, C: number, what: string): void {
  checkFloat(op, t);
  if (t.rank !== 1 || t.shape[0] !== C) throw new Error(`${op}: ${what} ${shapeString(t.shape)} must have shape [${C}] (one value per output channel)`);
}

/**
 * Forward convolution without autograd: x [N, Cin, H, W], weight [Cout, Cin/groups, kh, kw],
 * optional bias [Cout] and fused epilogue (see `ConvEpilogue`). Returns [N, Cout, OH, OW].
 * x, weight and the residual may all be f16 (half-precision inference, on devices with
 * `shader-f16`): the output is then f16, accumulated in f32; bias, scale and shift stay f32.
 */
export function conv2dRaw(x: Tensor, weight: Tensor, bias?: Tensor | null, opts: ConvOptions = {}, epilogue: ConvEpilogue = {}, strategy?: ConvStrategy): Tensor {
  return forward(x, weight, bias, opts, epilogue, { schedule: strategy });
}

function forward(x: Tensor, weight: Tensor, bias: Tensor | null | undefined, opts: ConvOptions, epilogue: ConvEpilogue, choose: ChooseOptions): Tensor {
  const op = 'conv2d';
  // f16 (half-precision inference, conv2dRaw only): input, weight and residual all f16
  const half = !choose.autograd && x.dtype === 'f16';
  const act = half ? 'f16' : 'f32';
  checkDtype(op, x, [act]);
  checkDtype(op, weight, [act]);
  const g = conv2dGeometry(x.shape, weight.shape, opts, op);
  if (bias) checkChannelVector(op, bias, g.Cout, 'bias');
  if (!!epilogue.scale !== !!epilogue.shift) throw new Error(`${op}: the epilogue needs both scale and shift, or neither`);
  if (epilogue.scale) checkChannelVector(op, epilogue.scale, g.Cout, 'epilogue scale');
  if (epilogue.shift) checkChannelVector(op, epilogue.shift, g.Cout, 'epilogue shift');
  const outShape = [g.N, g.Cout, g.OH, g.OW];
  if (epilogue.residual) {
    checkDtype(op, epilogue.residual, [act]);
    if (epilogue.residual.shape.join() !== outShape.join()) {
      throw new Error(`${op}: epilogue residual ${shapeString(epilogue.residual.shape)} must have the output shape ${shapeString(outShape)}`);
    }
  }
  const epi = { bias, ...epilogue };
  const { algorithm, schedule, winograd } = chooseConvAlgorithm(g, 'forward', { ...choose, half });
  if (algorithm === 'matmul') return pointwiseForward(x, weight, g, epi);
  const out = empty(outShape, act);
  if (algorithm === 'depthwise') depthwiseForward(x, weight, out, g, epi);
  else if (algorithm === 'grouped') groupedForward(x, weight, out, g, epi);
  else if (winograd) winogradConv(x, weight, out, winograd, epi, winogradTileOf(algorithm));
  else gemmForward(x, weight, out, g, schedule, epi);
  return out;
}

function checkGradOutput(op: string, dy: Tensor, g: Conv2dGeometry): void {
  const dyShape = [g.N, g.Cout, g.OH, g.OW];
  if (dy.shape.join() !== dyShape.join()) throw new Error(`${op}: output gradient ${shapeString(dy.shape)} must have shape ${shapeString(dyShape)}`);
}

/**
 * Gradient of the convolution with respect to its input: dy [N, Cout, OH, OW] and weight →
 * dx of shape `inputShape` [N, Cin, H, W].
 */
export function conv2dGradInput(dy: Tensor, weight: Tensor, inputShape: Shape, opts: ConvOptions = {}, strategy?: ConvStrategy): Tensor {
  return gradInput(dy, weight, inputShape, opts, { schedule: strategy });
}

function gradInput(dy: Tensor, weight: Tensor, inputShape: Shape, opts: ConvOptions, choose: ChooseOptions): Tensor {
  const op = 'conv2dGradInput';
  checkFloat(op, dy, weight);
  const g = conv2dGeometry(inputShape, weight.shape, opts, op);
  checkGradOutput(op, dy, g);
  const { algorithm, schedule, winograd } = chooseConvAlgorithm(g, 'gradInput', choose);
  if (algorithm === 'matmul') return pointwiseGradInput(dy, weight, g);
  const dx = empty([g.N, g.Cin, g.H, g.W]);
  if (algorithm === 'depthwise') depthwiseGradInput(dy, weight, dx, g);
  else if (algorithm === 'grouped') (g.sh === 1 && g.sw === 1 ? groupedGradInput : groupedStridedGradInput)(dy, weight, dx, g);
  else if (winograd) winogradConv(dy, weight, dx, winograd, {}, winogradTileOf(algorithm));
  else gemmGradInput(dy, weight, dx, g, schedule);
  return dx;
}

/**
 * Gradient of the convolution with respect to its weight: dy [N, Cout, OH, OW] and the input
 * x → dW of shape `weightShape` [Cout, Cin/groups, kh, kw].
 */
export function conv2dGradWeight(dy: Tensor, x: Tensor, weightShape: Shape, opts: ConvOptions = {}, strategy?: ConvStrategy): Tensor {
  return gradWeight(dy, x, weightShape, opts, { schedule: strategy });
}

function gradWeight(dy: Tensor, x: Tensor, weightShape: Shape, opts: ConvOptions, choose: ChooseOptions): Tensor {
  const op = 'conv2dGradWeight';
  checkFloat(op, dy, x);
  const g = conv2dGeometry(x.shape, weightShape, opts, op);
  checkGradOutput(op, dy, g);
  const { algorithm, schedule, winograd } = chooseConvAlgorithm(g, 'gradWeight', choose);
  if (algorithm === 'matmul') return pointwiseGradWeight(dy, x, g);
  if (algorithm === 'depthwise' || algorithm === 'grouped') return depthwiseGradWeight(dy, x, g);
  if (winograd) {
    const dw = empty([g.Cout, g.Cin, 3, 3]);
    winogradGradWeight(x, dy, dw, winograd, winogradTileOf(algorithm));
    return dw;
  }
  return gemmGradWeight(dy, x, g, schedule);
}

/**
 * 2-D convolution with autograd (PyTorch semantics): x [N, Cin, H, W], weight
 * [Cout, Cin/groups, kh, kw], optional bias [Cout] → [N, Cout, OH, OW]. Backward gives dx,
 * dweight and dbias (Σ dy over N, H, W), each only when needed, each by the algorithm
 * `conv2dAlgorithm(..., pass, undefined, true)` names.
 */
export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor | null, opts: ConvOptions = {}): Tensor {
  const choose: ChooseOptions = { autograd: true };
  const out = forward(x, weight, bias, opts, {}, choose);
  const inputs = bias ? [x, weight, bias] : [x, weight];
  const xShape = [...x.shape];
  const wShape = [...weight.shape];
  // The gradients are computed under the tuning the forward ran with (see withTuning).
  const forwardTuning = tuning();
  record('conv2d', inputs, [out], ([gy], needs, [xs, ws]) => withTuning(forwardTuning, () => [
    needs[0] ? gradInput(gy!, ws, xShape, opts, choose) : null,
    needs[1] ? gradWeight(gy!, xs, wShape, opts, choose) : null,
    ...(bias ? [needs[2] ? reduceSum(gy!, [0, 2, 3]) : null] : []),
  ]), [x, weight]);
  return out;
}
