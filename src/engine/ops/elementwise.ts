/**
 * Elementwise ops, one table entry each: the WGSL expression of the forward, the WGSL of the
 * input gradient, and their CPU references (the tests check every entry against them, and the
 * gradient against finite differences). `unary(name, ...)` runs an entry; the exported
 * functions below give each a typed name. Binary ops broadcast (NumPy/PyTorch rules); their
 * gradient rules are in gradients.ts.
 */
import { type Tensor } from '../tensor.js';
import { record } from '../tape.js';
import { unaryMap, binaryMap } from '../kernels/elementwise/map.js';
import { GRADIENTS } from '../gradients.js';
import { broadcastShapes } from '../layout.js';
import { checkFloat } from '../checks.js';

export interface UnaryOp {
  /** Forward: WGSL in x (and the op's parameters alpha, beta). */
  wgsl: string;
  cpu: (x: number, alpha: number, beta: number) => number;
  /** Input gradient: WGSL in g (the output's gradient) and either x (the input) or y (the output). */
  dx: string;
  dxCpu: (g: number, x: number, y: number, alpha: number, beta: number) => number;
  /** What the tests feed it: input range (default [-3, 3]) and parameters. */
  test?: { domain?: readonly [number, number]; alpha?: number; beta?: number };
}

export interface BinaryOp {
  /** Forward: WGSL in x (first operand) and y (second). */
  wgsl: string;
  cpu: (x: number, y: number) => number;
  /** CPU references of the two partial gradients (the GPU rules are in gradients.ts). */
  dxCpu: (g: number, x: number, y: number) => number;
  dyCpu: (g: number, x: number, y: number) => number;
  test?: { domain?: readonly [number, number] };
}

const F32_MAX = 3.4e38;

export const UNARY_OPS = {
  relu: { wgsl: 'max(x, 0.0)', cpu: (x) => Math.max(x, 0), dx: 'select(0.0, g, y > 0.0)', dxCpu: (g, _x, y) => (y > 0 ? g : 0) },
  exp: { wgsl: 'exp(x)', cpu: Math.exp, dx: 'g * y', dxCpu: (g, _x, y) => g * y },
  log: { wgsl: 'log(x)', cpu: Math.log, dx: 'g / x', dxCpu: (g, x) => g / x, test: { domain: [0.1, 3] } },
  sqrt: { wgsl: 'sqrt(x)', cpu: Math.sqrt, dx: '0.5 * g / y', dxCpu: (g, _x, y) => (0.5 * g) / y, test: { domain: [0.1, 3] } },
  pow: {
    wgsl: 'powf(x, alpha)', cpu: (x, p) => x ** p,
    dx: 'g * alpha * powf(x, alpha - 1.0)', dxCpu: (g, x, _y, p) => g * p * x ** (p - 1), test: { alpha: 3 },
  },
  clamp: {
    wgsl: 'clamp(x, alpha, beta)', cpu: (x, lo, hi) => Math.min(Math.max(x, lo), hi),
    dx: 'select(0.0, g, x >= alpha && x <= beta)', dxCpu: (g, x, _y, lo, hi) => (x >= lo && x <= hi ? g : 0), test: { alpha: -1, beta: 2 },
  },
  gelu: {
    // PyTorch's gelu(approximate='tanh'): 0.5 x (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3)
    wgsl: '0.5 * x * (1.0 + tanh(clamp(0.7978845608 * (x + 0.044715 * x * x * x), -15.0, 15.0)))',
    cpu: (x) => 0.5 * x * (1 + Math.tanh(0.7978845608028654 * (x + 0.044715 * x ** 3))),
    dx: 'g * (0.5 * (1.0 + tanh(clamp(0.7978845608 * (x + 0.044715 * x * x * x), -15.0, 15.0))) + 0.5 * x * ' +
      '(1.0 - tanh(clamp(0.7978845608 * (x + 0.044715 * x * x * x), -15.0, 15.0)) * tanh(clamp(0.7978845608 * (x + 0.044715 * x * x * x), -15.0, 15.0))) * ' +
      '0.7978845608 * (1.0 + 0.134145 * x * x))',
    dxCpu: (g, x) => {
      const t = Math.tanh(0.7978845608028654 * (x + 0.044715 * x ** 3));
      return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * 0.7978845608028654 * (1 + 3 * 0.044715 * x * x));
    },
  },
  sigmoid: {
    // From t = exp(-|x|), which never overflows: 1 / (1 + t) for x >= 0, t / (1 + t) below.
    wgsl: 'select(exp(-abs(x)) / (1.0 + exp(-abs(x))), 1.0 / (1.0 + exp(-abs(x))), x >= 0.0)',
    cpu: (x) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))),
    dx: 'g * y * (1.0 - y)', dxCpu: (g, _x, y) => g * y * (1 - y), test: { domain: [-8, 8] },
  },
  addScalar: { wgsl: 'x + alpha', cpu: (x, s) => x + s, dx: 'g', dxCpu: (g) => g, test: { alpha: 0.5 } },
  mulScalar: { wgsl: 'x * alpha', cpu: (x, s) => x * s, dx: 'g * alpha', dxCpu: (g, _x, _y, s) => g * s, test: { alpha: -1.5 } },
} satisfies Record<string, UnaryOp>;

export const BINARY_OPS = {
  add: { wgsl: 'x + y', cpu: (x, y) => x + y, dxCpu: (g) => g, dyCpu: (g) => g },
  sub: { wgsl: 'x - y', cpu: (x, y) => x - y, dxCpu: (g) => g, dyCpu: (g) => -g },
  mul: { wgsl: 'x * y', cpu: (x, y) => x * y, dxCpu: (g, _x, y) => g * y, dyCpu: (g, x) => g * x },
  div: { wgsl: 'x / y', cpu: (x, y) => x / y, dxCpu: (g, _x, y) => g / y, dyCpu: (g, x, y) => (-g * x) / (y * y), test: { domain: [0.5, 3] } },
} satisfies Record<string, BinaryOp>;

export type UnaryOpName = keyof typeof UNARY_OPS;
export type BinaryOpName = keyof typeof BINARY_OPS;

/** Runs the unary table entry `name` on x, with its parameters alpha and beta. */
export function unary(name: UnaryOpName, x: Tensor, alpha = 0, beta = 0): Tensor {
  checkFloat(name, x);
  const op: UnaryOp = UNARY_OPS[name];
  const out = unaryMap(op.wgsl, x, alpha, beta);
  const rule = GRADIENTS.unary(op, x.shape, alpha, beta);
  record(name, [x], [out], rule.backward, rule.saves === 'x' ? [x] : rule.saves === 'y' ? [out] : []);
  return out;
}

/** Runs the binary table entry `name` on a and b, broadcasting. */
export function binary(name: BinaryOpName, a: Tensor, b: Tensor): Tensor {
  checkFloat(name, a, b);
  broadcastShapes(name, a.shape, b.shape);
  const out = binaryMap(BINARY_OPS[name].wgsl, a, b);
  const rule = GRADIENTS[name](a.shape, b.shape);
  record(name, [a, b], [out], rule, [a, b]);
  return out;
}

export const add = (a: Tensor, b: Tensor): Tensor => binary('add', a, b);
export const sub = (a: Tensor, b: Tensor): Tensor => binary('sub', a, b);
export const mul = (a: Tensor, b: Tensor): Tensor => binary('mul', a, b);
export const div = (a: Tensor, b: Tensor): Tensor => binary('div', a, b);

export const relu = (x: Tensor): Tensor => unary('relu', x);
export const exp = (x: Tensor): Tensor => unary('exp', x);
/** Natural logarithm (NaN for negative inputs, -inf at 0, like PyTorch). */
export const log = (x: Tensor): Tensor => unary('log', x);
export const sqrt = (x: Tensor): Tensor => unary('sqrt', x);
/** x^p for a scalar exponent (negative bases allowed for integer p). */
export const pow = (x: Tensor, p: number): Tensor => unary('pow', x, p);
/** Clamps to [lo, hi]; the gradient passes where lo <= x <= hi. */
export const clamp = (x: Tensor, lo = -Infinity, hi = Infinity): Tensor =>
  unary('clamp', x, Math.max(lo, -F32_MAX), Math.min(hi, F32_MAX));
/** GELU, tanh approximation (PyTorch's `gelu(x, approximate='tanh')`). */
export const gelu = (x: Tensor): Tensor => unary('gelu', x);
/** Logistic sigmoid 1 / (1 + exp(-x)), exact in both tails (no overflow for large |x|). */
export const sigmoid = (x: Tensor): Tensor => unary('sigmoid', x);
export const addScalar = (x: Tensor, s: number): Tensor => unary('addScalar', x, s);
export const mulScalar = (x: Tensor, s: number): Tensor => unary('mulScalar', x, s);
export const neg = (x: Tensor): Tensor => mulScalar(x, -1);
