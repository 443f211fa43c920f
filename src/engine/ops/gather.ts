/** Row gather (index_select along axis 0) with its scatter-add gradient. */
import gatherSource from '../../../shaders/gather.wgsl';
import { runtime } from '../runtime.js';
import { Uniforms } from '../uniforms.js';
import { empty, type Tensor, shapeString } from '../tensor.js';
import { record } from '../tape.js';
import { checkDtype, checkLive } from './checks.js';
import { bitType } from '../kernels/elementwise/map.js';

/** out[i] = x[index[i]] along the first axis; `index` is i32 [count] (clamped to range). */
export function gather(x: Tensor, index: Tensor): Tensor {
  checkLive('gather', x);
  checkDtype('gather', index, ['i32']);
  if (x.rank < 1 || index.rank !== 1) throw new Error(`gather: x must have rank >= 1 and index rank 1, got ${shapeString(x.shape)} and ${shapeString(index.shape)}`);
  const rows = x.shape[0];
  const cols = x.size / Math.max(rows, 1);
  const count = index.shape[0];
  const out = empty([count, ...x.shape.slice(1)], x.dtype);
  const rt = runtime();
  const u = new Uniforms().u32(rows).u32(cols).u32(count).u32(0);
  rt.dispatchSource(
    { name: 'gather', source: gatherSource, defines: { BACKWARD: false, T: bitType(x.dtype) } },
    { uniforms: u, buffers: [x.buffer, index.buffer, out.buffer], workgroups: rt.grid(Math.ceil((count * cols) / 256)) },
  );
  const inShape = x.shape;
  record('gather', [x], [out], ([g]) => {
    const dx = empty(inShape);
    rt.dispatchSource(
      { name: 'gather', source: gatherSource, defines: { BACKWARD: true, T: 'f32' } },
      { uniforms: new Uniforms().u32(rows).u32(cols).u32(count).u32(0), buffers: [g!.buffer, index.buffer, dx.buffer], workgroups: rt.grid(Math.ceil((rows * cols) / 256)) },
    );
    return [dx];
  }, [index]);
  return out;
}
