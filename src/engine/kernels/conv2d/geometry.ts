/** The geometry of one convolution: shapes and hyper-parameters, validated once. */
import { type Shape, shapeString } from '../../tensor.js';

export interface ConvOptions {
  /** Stride (default 1), one value or [height, width]. */
  stride?: number | readonly [number, number];
  /** Zero padding on each side (default 0). */
  padding?: number | readonly [number, number];
  /** Dilation (default 1). */
  dilation?: number | readonly [number, number];
  /** Channel groups (default 1): Cin and Cout must be multiples. */
  groups?: number;
}

/** Shapes and hyper-parameters of one convolution. */
export interface Conv2dGeometry {
  N: number; Cin: number; H: number; W: number;
  Cout: number; KH: number; KW: number; OH: number; OW: number;
  sh: number; sw: number; ph: number; pw: number; dh: number; dw: number; groups: number;
}

function pair(op: string, what: string, v: number | readonly [number, number] | undefined, dflt: number, min: number): [number, number] {
  const p: [number, number] = v === undefined ? [dflt, dflt] : typeof v === 'number' ? [v, v] : [v[0], v[1]];
  if (!p.every((x) => Number.isInteger(x) && x >= min)) throw new Error(`${op}: ${what} must be integers >= ${min}, got ${JSON.stringify(v)}`);
  return p;
}

/** Validates shapes and options (clear errors naming the shapes) and derives the output size. */
export function conv2dGeometry(xShape: Shape, wShape: Shape, opts: ConvOptions = {}, op = 'conv2d'): Conv2dGeometry {
  if (xShape.length !== 4 || wShape.length !== 4) {
    throw new Error(`${op}: input must be [N, Cin, H, W] and weight [Cout, Cin/groups, kh, kw], got ${shapeString(xShape)} and ${shapeString(wShape)}`);
  }
  const groups = opts.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1) throw new Error(`${op}: groups must be a positive integer, got ${groups}`);
  const [N, Cin, H, W] = xShape;
  const [Cout, Cig, KH, KW] = wShape;
  if (Cin % groups !== 0 || Cout % groups !== 0 || Cig * groups !== Cin) {
    throw new Error(`${op}: input ${shapeString(xShape)} and weight ${shapeString(wShape)} do not match with groups=${groups} (need Cin = weight.shape[1] * groups and Cout divisible by groups)`);
  }
  const [sh, sw] = pair(op, 'stride', opts.stride, 1, 1);
  const [ph, pw] = pair(op, 'padding', opts.padding, 0, 0);
  const [dh, dw] = pair(op, 'dilation', opts.dilation, 1, 1);
  const OH = Math.floor((H + 2 * ph - dh * (KH - 1) - 1) / sh) + 1;
  const OW = Math.floor((W + 2 * pw - dw * (KW - 1) - 1) / sw) + 1;
  if (KH < 1 || KW < 1 || OH < 1 || OW < 1 || N < 1) {
    throw new Error(`${op}: input ${shapeString(xShape)} is too small for weight ${shapeString(wShape)} (stride ${sh}x${sw}, padding ${ph}x${pw}, dilation ${dh}x${dw})`);
  }
  return { N, Cin, H, W, Cout, KH, KW, OH, OW, sh, sw, ph, pw, dh, dw, groups };
}
