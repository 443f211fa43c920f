/**
 * 1x1 unpadded ungrouped convolutions as the matmul kernel (matmul.ts; no conv kernel of its
 * own). Per image, x[n] is already the [Cin, H·W] matrix, so
 *   forward   Y[n]  = W · x[n]            (W: [Cout, Cin], PyTorch's weight viewed as a matrix)
 *   input     dx[n] = Wᵀ · dY[n]          (stride 1)
 *   weight    dW    = Σ_n dY[n] · x[n]ᵀ   (stride 1)
 * with the forward's epilogue on the matmul's rows. A strided forward (ResNet's downsampling
 * shortcuts) first copies the pixels it reads (a pass over a 1/s² of x).
 */
import { empty, type Tensor } from '../../tensor.js';
import { matmulRaw } from '../matmul/matmul.js';
import { reduceSum } from '../reduce/sum.js';
import { mapStrided } from '../elementwise/map.js';
import type { Conv2dGeometry } from './geometry.js';
import type { Epi } from './epilogue.js';

/** The forward convolution with the fused epilogue: x [N, Cin, H, W] → [N, Cout, OH, OW]. */
export function pointwiseForward(x: Tensor, weight: Tensor, g: Conv2dGeometry, epi: Epi): Tensor {
  const P = g.OH * g.OW;
  const src = g.sh === 1 && g.sw === 1 ? x : subsample(x, g);
  const views = [weight.view([g.Cout, g.Cin]), src.view([g.N, g.Cin, P])];
  if (src !== x) src.dispose();
  const residual = epi.residual?.view([g.N, g.Cout, P]);
  const y = matmulRaw(views[0], views[1], false, false, undefined, {
    epilogue: { rowBias: epi.bias, rowScale: epi.scale, rowShift: epi.shift, residual, relu: epi.relu },
  });
  const out = y.view([g.N, g.Cout, g.OH, g.OW]);
  for (const t of [...views, y, residual]) t?.dispose();
  return out;
}

/** x[:, :, ::sh, ::sw] as a dense [N, Cin, OH, OW] tensor (the pixels a strided 1x1 conv reads). */
function subsample(x: Tensor, g: Conv2dGeometry): Tensor {
  const shape = [g.N, g.Cin, g.OH, g.OW];
  const out = empty(shape);
  mapStrided({ op: 'x', shape, a: x, aLayout: { offset: 0, strides: [g.Cin * g.H * g.W, g.H * g.W, g.sh * g.W, g.sw] }, out });
  return out;
}

/** The input gradient of a stride-1 pointwise convolution: dx = Wᵀ · dy per image. */
export function pointwiseGradInput(dy: Tensor, weight: Tensor, g: Conv2dGeometry): Tensor {
  const dy3 = dy.view([g.N, g.Cout, g.H * g.W]);
  const wm = weight.view([g.Cout, g.Cin]);
  const d = matmulRaw(wm, dy3, true, false);
  const dx = d.view([g.N, g.Cin, g.H, g.W]);
  for (const t of [d, dy3, wm]) t.dispose();
  return dx;
}

/** The weight gradient of a stride-1 pointwise convolution: dW = Σ_n dy[n] · x[n]ᵀ. */
export function pointwiseGradWeight(dy: Tensor, x: Tensor, g: Conv2dGeometry): Tensor {
  const dy3 = dy.view([g.N, g.Cout, g.H * g.W]);
  const xm = x.view([g.N, g.Cin, g.H * g.W]);
  const perImage = matmulRaw(dy3, xm, false, true); // [N, Cout, Cin]
  const s = reduceSum(perImage, [0]);
  const dw = s.view([g.Cout, g.Cin, 1, 1]);
  for (const t of [dy3, xm, perImage, s]) t.dispose();
  return dw;
}
