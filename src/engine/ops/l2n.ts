/**
 * Row L2 normalization, MultiGrain's `normalized_embedding`: y = x / (||x||_2 + 1e-6) per row
 * of x [N, D] (the epsilon is added to the norm, not under the square root).
 * Kernel `l2n.wgsl`: T threads per row reduce the sum of squares (and g . x backward), then
 * the same threads write the row; one dispatch forward, one backward.
 */
import l2nSource from '../../../shaders/l2n.wgsl';
import { runtime } from '../runtime.js';
import { Uniforms } from '../uniforms.js';
import { empty, Tensor, type Storage } from '../tensor.js';
import { record } from '../tape.js';
import { checkFloat, checkRank } from './checks.js';
import { rowThreads, rowWorkgroup } from './gem.js';

const L2N_EPS = 1e-6;

function l2nKernel(x: Tensor, g: Tensor | null): Tensor {
  const [rows, len] = x.shape;
  const out = empty(x.shape);
  const t = rowThreads(rows, len);
  const wg = rowWorkgroup(t);
  const rt = runtime();
  const buffers = g ? [x.buffer, g.buffer, out.buffer] : [x.buffer, out.buffer];
  if (rows > 0 && len > 0) {
    rt.dispatchSource(
      { name: 'l2n', source: l2nSource, defines: { T: t, WG: wg, BACKWARD: g !== null } },
      { uniforms: new Uniforms().u32(rows).u32(len).f32(L2N_EPS).u32(0), buffers, workgroups: rt.grid(Math.ceil(rows / (wg / t))) },
    );
  }
  return out;
}

/** x / (||x||_2 + 1e-6) for each row of x [N, D]. */
export function l2normalize(x: Tensor): Tensor {
  const op = 'l2normalize';
  checkFloat(op, x);
  checkRank(op, x, 2);
  const out = l2nKernel(x, null);
  const saved: Storage = x.liveStorage(op);
  const shape = x.shape;
  record(op, [x], [out], ([g]) => {
    saved.retain();
    const xs = new Tensor(saved, shape);
    const dx = l2nKernel(xs, g!);
    xs.dispose();
    return [dx];
  }, [x]);
  return out;
}
