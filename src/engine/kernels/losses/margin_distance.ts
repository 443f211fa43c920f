/**
 * Kernel `losses/margin_distance`: the margin loss's triplet distances, one workgroup of 64
 * threads per triplet: dist[2t] = d_ap, dist[2t + 1] = d_an (sqrt(|.|² + 1e-8)). Raw (no autograd).
 */
import source from '../../../../shaders/losses/margin_distance.wgsl';
import { defineKernel } from '../../kernel.js';
import { runtime } from '../../runtime.js';
import { empty, type Tensor } from '../../tensor.js';

export const marginDistanceKernel = defineKernel({
  name: 'losses/margin_distance',
  source,
  uniforms: { B: 'u32', C: 'u32', T: 'u32' },
  bindings: [
    { name: 'x', type: 'f32', access: 'read' },
    { name: 'ia', type: 'i32', access: 'read' },
    { name: 'ip', type: 'i32', access: 'read' },
    { name: 'inn', type: 'i32', access: 'read' },
    { name: 'dist', type: 'f32', access: 'read_write' },
  ],
  workgroupSize: 64,
  snippets: ['batchRow'],
});

/** (d_ap, d_an) of each triplet of rows of x [B, C], interleaved: [2T]. */
export function marginDistances(x: Tensor, anchors: Tensor, positives: Tensor, negatives: Tensor): Tensor {
  const [B, C] = x.shape;
  const T = anchors.shape[0];
  const dist = empty([2 * T]);
  if (T > 0) {
    marginDistanceKernel.dispatch({
      uniforms: { B, C, T },
      bindings: { x, ia: anchors, ip: positives, inn: negatives, dist },
      workgroups: runtime().grid(T),
    });
  }
  return dist;
}
