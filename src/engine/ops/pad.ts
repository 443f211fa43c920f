/**
 * Constant padding of the last two dimensions (PyTorch's `F.pad(x, [left, right, top, bottom])`
 * on NCHW images, `nn.ZeroPad2d`); a negative amount crops, so the NASNets' one-pixel
 * pad-pool-crop pattern is two calls. Forward and backward are strided copies of the window the
 * input and the output share (the elementwise map kernel), plus one fill of the border.
 */
import { empty, type Tensor, type Shape, shapeString } from '../tensor.js';
import { record } from '../tape.js';
import { runtime } from '../runtime.js';
import { checkFloat } from '../checks.js';
import { mapStrided } from '../kernels/elementwise/map.js';
import { contiguousStrides, type Layout } from '../layout.js';

/** Amounts added on each side of the last two dims: [left, right, top, bottom] (negative crops). */
export type Pad2d = readonly [number, number, number, number];

/** The window shared by a tensor of `inShape` and its padding by `pads`: its shape and both layouts. */
interface SharedWindow {
  shape: number[];
  inLayout: Layout;
  outLayout: Layout;
}

function sharedWindow(inShape: Shape, outShape: Shape, [left, right, top, bottom]: Pad2d): SharedWindow {
  const r = inShape.length;
  const [H, W] = [inShape[r - 2], inShape[r - 1]];
  // first input row/column kept, and where it lands in the output
  const h0 = Math.max(0, -top);
  const w0 = Math.max(0, -left);
  const rows = H - h0 - Math.max(0, -bottom);
  const cols = W - w0 - Math.max(0, -right);
  const inStrides = contiguousStrides(inShape);
  const outStrides = contiguousStrides(outShape);
  return {
    shape: [...inShape.slice(0, r - 2), Math.max(rows, 0), Math.max(cols, 0)],
    inLayout: { offset: h0 * inStrides[r - 2] + w0, strides: inStrides },
    outLayout: { offset: Math.max(0, top) * outStrides[r - 2] + Math.max(0, left), strides: outStrides },
  };
}

/** `x` padded into a new tensor of `outShape`, the border filled with `value`. */
function padInto(x: Tensor, outShape: Shape, win: SharedWindow, value: number, border: boolean): Tensor {
  const out = empty(outShape);
  if (border) {
    if (value === 0) runtime().clear(out.buffer, out.size * 4);
    else mapStrided({ op: 'alpha', alpha: value, shape: outShape, a: x, aLayout: { offset: 0, strides: outShape.map(() => 0) }, out });
  }
  mapStrided({ op: 'x', shape: win.shape, a: x, aLayout: win.inLayout, out, outLayout: win.outLayout });
  return out;
}

/**
 * Pads (or, with negative amounts, crops) the last two dimensions of x (rank >= 2, e.g.
 * [N, C, H, W]) by `pads` = [left, right, top, bottom], filling with `value`. PyTorch's
 * `F.pad(x, pads, value=value)`; `nn.ZeroPad2d((1, 0, 1, 0))` is `pad2d(x, [1, 0, 1, 0])` and the
 * crop `x[:, :, 1:, 1:]` is `pad2d(x, [-1, 0, -1, 0])`. The gradient is the window of the output
 * gradient that came from x (zero where x was cropped).
 */
export function pad2d(x: Tensor, pads: Pad2d, value = 0): Tensor {
  const op = 'pad2d';
  checkFloat(op, x);
  if (x.rank < 2) throw new Error(`${op}: input must have rank >= 2 (…, H, W), got shape ${shapeString(x.shape)}`);
  if (pads.length !== 4 || !pads.every(Number.isInteger)) throw new Error(`${op}: pads must be 4 integers [left, right, top, bottom], got ${JSON.stringify(pads)}`);
  if (!Number.isFinite(value)) throw new Error(`${op}: fill value ${value} is not finite`);
  const [left, right, top, bottom] = pads;
  const r = x.rank;
  const oh = x.shape[r - 2] + top + bottom;
  const ow = x.shape[r - 1] + left + right;
  if (oh < 1 || ow < 1) throw new Error(`${op}: pads ${JSON.stringify(pads)} crop input ${shapeString(x.shape)} to nothing (${oh}x${ow})`);
  const outShape = [...x.shape.slice(0, r - 2), oh, ow];
  const win = sharedWindow(x.shape, outShape, pads);
  const out = padInto(x, outShape, win, value, pads.some((p) => p > 0));
  const inShape = x.shape;
  record(op, [x], [out], ([g]) => {
    // the inverse padding: the output gradient's shared window goes back, the cropped parts are 0
    const back: Pad2d = [-left, -right, -top, -bottom];
    return [padInto(g!, inShape, sharedWindow(g!.shape, inShape, back), 0, back.some((p) => p > 0))];
  });
  return out;
}
