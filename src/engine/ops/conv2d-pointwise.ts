/**
 * Pointwise convolution (1x1 kernel, stride 1, no padding) as batched matrix products: per
 * image, x[n] is already the [Cin, H*W] matrix, so
 *   forward   Y[n]  = W · x[n]            (W: [Cout, Cin], PyTorch's weight viewed as a matrix)
 *   input     dx[n] = Wᵀ · dY[n]
 *   weight    dW    = Σ_n dY[n] · x[n]ᵀ
 * The matmul kernels are faster than the implicit-GEMM conv for these shapes (no patch
 * indexing at all); `conv2dAuto` routes pointwise convolutions here and the rest to `conv2d`.
 */
import { type Tensor, shapeString } from '../tensor.js';
import { record } from '../tape.js';
import { matmulRaw } from './matmul.js';
import { sum } from './reduce.js';
import { checkFloat } from './checks.js';
import { conv2d, conv2dPointwiseRaw, type ConvOptions } from './conv2d.js';

const one = (v: number | readonly [number, number] | undefined, d: number) => (v === undefined ? d : typeof v === 'number' ? v : v[0] === v[1] ? v[0] : NaN);

/** True for the convolutions that `conv2dPointwise` computes: 1x1, stride 1, no padding, one group. */
export function isPointwiseConv(weight: Tensor, opts: ConvOptions = {}): boolean {
  return weight.rank === 4 && weight.shape[2] === 1 && weight.shape[3] === 1 &&
    one(opts.stride, 1) === 1 && one(opts.padding, 0) === 0 && (opts.groups ?? 1) === 1;
}

/** A 1x1 / stride 1 / unpadded conv2d with autograd: x [N, Cin, H, W], weight [Cout, Cin, 1, 1]. */
export function conv2dPointwise(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  checkFloat('conv2d', x, weight);
  if (x.rank !== 4 || weight.rank !== 4 || weight.shape[1] !== x.shape[1] || weight.shape[2] !== 1 || weight.shape[3] !== 1) {
    throw new Error(`conv2d (pointwise): input ${shapeString(x.shape)} does not fit a 1x1 weight ${shapeString(weight.shape)}`);
  }
  const [N, C, H, W] = x.shape;
  const Cout = weight.shape[0];
  if (bias && (bias.rank !== 1 || bias.shape[0] !== Cout)) throw new Error(`conv2d: bias ${shapeString(bias.shape)} does not match ${Cout} output channels`);
  const out = conv2dPointwiseRaw(x, weight, bias); // the bias rides in the matmul's epilogue
  const inputs = bias ? [x, weight, bias] : [x, weight];
  record('conv2d', inputs, [out], ([dy], needs, [x, weight]) => {
    const dy3 = dy!.view([N, Cout, H * W]);
    const wm = weight.view([Cout, C]);
    let dx: Tensor | null = null;
    let dw: Tensor | null = null;
    if (needs[0]) {
      const d = matmulRaw(wm, dy3, true, false);
      dx = d.view([N, C, H, W]);
      d.dispose();
    }
    if (needs[1]) {
      const xm = x.view([N, C, H * W]);
      const perImage = matmulRaw(dy3, xm, false, true); // [N, Cout, C]
      xm.dispose();
      const s = sum(perImage, 0);
      perImage.dispose();
      dw = s.view([Cout, C, 1, 1]);
      s.dispose();
    }
    dy3.dispose();
    wm.dispose();
    return [dx, dw, ...(bias ? [needs[2] ? sum(dy!, [0, 2, 3]) : null] : [])];
  }, [x, weight]);
  return out;
}

/** conv2d choosing the fastest formulation: matmuls for pointwise convolutions, else implicit GEMM. */
export function conv2dAuto(x: Tensor, weight: Tensor, bias?: Tensor | null, opts: ConvOptions = {}): Tensor {
  return isPointwiseConv(weight, opts) ? conv2dPointwise(x, weight, bias) : conv2d(x, weight, bias, opts);
}
