/**
 * Kernel `reduce/sum`: `out[kept] = scale * sum over axes of x`, any set of axes, in place.
 * Raw (no autograd): `sum`/`mean` and the gradient of broadcasting build on it.
 */
import source from '../../../../shaders/reduce/sum.wgsl';
import { defineKernel } from '../../kernel.js';
import { runtime } from '../../runtime.js';
import { empty, type Shape, type Tensor, shapeSize } from '../../tensor.js';
import { broadcastAxes, contiguousStrides } from '../../layout.js';

export const sumKernel = defineKernel({
  name: 'reduce/sum',
  source,
  uniforms: {
    nOut: 'u32', nRed: 'u32', keptRank: 'u32', redRank: 'u32', scale: 'f32',
    keptShape: 'vec8u', keptStrides: 'vec8u', redShape: 'vec8u', redStrides: 'vec8u',
  },
  bindings: [
    { name: 'x', type: 'f32', access: 'read' },
    { name: 'out', type: 'f32', access: 'read_write' },
  ],
  workgroupSize: (d) => (d.WG_PER_OUTPUT ? 64 : 256),
});

/** Merges adjacent dims that are contiguous in memory (fewer index computations). */
function mergeDims(shape: number[], strides: number[]): [number[], number[]] {
  const s: number[] = [];
  const t: number[] = [];
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const last = s.length - 1;
    if (last >= 0 && t[last] === strides[d] * shape[d]) {
      s[last] *= shape[d];
      t[last] = strides[d];
    } else {
      s.push(shape[d]);
      t.push(strides[d]);
    }
  }
  return [s, t];
}

/** `scale` times the sum of x over `axes` (sorted, valid), shaped as the kept dims. */
export function reduceSum(x: Tensor, axes: readonly number[], scale = 1): Tensor {
  const strides = contiguousStrides(x.shape);
  const keptDims = x.shape.map((_, d) => d).filter((d) => !axes.includes(d));
  const [keptShape, keptStrides] = mergeDims(keptDims.map((d) => x.shape[d]), keptDims.map((d) => strides[d]));
  const [redShape, redStrides] = mergeDims(axes.map((d) => x.shape[d]), axes.map((d) => strides[d]));
  const nOut = shapeSize(keptShape);
  const nRed = shapeSize(redShape);
  const out = empty(keptDims.map((d) => x.shape[d]));
  // A workgroup per output pays off only for long reductions into few outputs (batchnorm-like
  // shapes); many outputs (summing a batch of weight gradients) want a thread each, which
  // also makes neighbouring threads read neighbouring addresses.
  const wgPerOutput = nRed > 32 && nOut < 4096;
  sumKernel.dispatch({
    defines: { WG_PER_OUTPUT: wgPerOutput },
    uniforms: { nOut, nRed, keptRank: keptShape.length, redRank: redShape.length, scale, keptShape, keptStrides, redShape, redStrides },
    bindings: { x, out },
    workgroups: runtime().grid(wgPerOutput ? nOut : Math.ceil(nOut / 256)),
  });
  return out;
}

/** Sums a broadcast result back to `shape` (the gradient of broadcasting); a view when nothing is summed. */
export function sumTo(x: Tensor, shape: Shape): Tensor {
  if (x.shape.join() === shape.join()) return x.view(shape);
  const raw = reduceSum(x, broadcastAxes(x.shape, shape));
  const out = raw.view(shape);
  raw.dispose();
  return out;
}
