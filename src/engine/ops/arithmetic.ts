/** Elementwise arithmetic with broadcasting, scalar ops and unary math, with backward rules. */
import { empty, type Tensor } from '../tensor.js';
import { record } from '../tape.js';
import { mapStrided, broadcastShapes, broadcastLayout } from './strided.js';
import { sumTo } from './reduce.js';
import { checkFloat } from './checks.js';

/** out = OP(a, b) with broadcasting; no autograd. `op` is a WGSL expression in x, y. */
export function binaryMap(name: string, op: string, a: Tensor, b: Tensor, alpha = 0, beta = 0): Tensor {
  checkFloat(name, a, b);
  const shape = broadcastShapes(name, a.shape, b.shape);
  const out = empty(shape);
  mapStrided({ op, shape, a, aLayout: broadcastLayout(a.shape, shape), b, bLayout: broadcastLayout(b.shape, shape), out, alpha, beta });
  return out;
}

/** out = OP(x) elementwise; no autograd. `op` is a WGSL expression in x (alpha, beta). */
export function unaryMap(name: string, op: string, x: Tensor, alpha = 0, beta = 0): Tensor {
  checkFloat(name, x);
  const out = empty(x.shape);
  mapStrided({ op, shape: x.shape, a: x, out, alpha, beta });
  return out;
}

export function add(a: Tensor, b: Tensor): Tensor {
  const out = binaryMap('add', 'x + y', a, b);
  record('add', [a, b], [out], ([g], needs) => [needs[0] ? sumTo(g!, a.shape) : null, needs[1] ? sumTo(g!, b.shape) : null]);
  return out;
}

export function sub(a: Tensor, b: Tensor): Tensor {
  const out = binaryMap('sub', 'x - y', a, b);
  record('sub', [a, b], [out], ([g], needs) => [
    needs[0] ? sumTo(g!, a.shape) : null,
    needs[1] ? reduceDisposing(unaryMap('neg', '-x', g!), b) : null,
  ]);
  return out;
}

export function mul(a: Tensor, b: Tensor): Tensor {
  const out = binaryMap('mul', 'x * y', a, b);
  record('mul', [a, b], [out], ([g], needs) => [
    needs[0] ? reduceDisposing(binaryMap('mul', 'x * y', g!, b), a) : null,
    needs[1] ? reduceDisposing(binaryMap('mul', 'x * y', g!, a), b) : null,
  ], [a, b]);
  return out;
}

export function div(a: Tensor, b: Tensor): Tensor {
  const out = binaryMap('div', 'x / y', a, b);
  record('div', [a, b], [out], ([g], needs) => {
    const ga = needs[0] ? reduceDisposing(binaryMap('div', 'x / y', g!, b), a) : null;
    let gb: Tensor | null = null;
    if (needs[1]) {
      const gOut = binaryMap('mul', '-x * y', g!, out);
      gb = reduceDisposing(binaryMap('div', 'x / y', gOut, b), b);
      gOut.dispose();
    }
    return [ga, gb];
  }, [a, b, out]);
  return out;
}

/** Sums `g` back to `like`'s shape and disposes `g`. */
function reduceDisposing(g: Tensor, like: Tensor): Tensor {
  const r = sumTo(g, like.shape);
  g.dispose();
  return r;
}

export function addScalar(x: Tensor, s: number): Tensor {
  const out = unaryMap('addScalar', 'x + alpha', x, s);
  record('addScalar', [x], [out], ([g]) => [g!.view(x.shape)]);
  return out;
}

export function mulScalar(x: Tensor, s: number): Tensor {
  const out = unaryMap('mulScalar', 'x * alpha', x, s);
  record('mulScalar', [x], [out], ([g]) => [unaryMap('mulScalar', 'x * alpha', g!, s)]);
  return out;
}

export function neg(x: Tensor): Tensor {
  return mulScalar(x, -1);
}

export function relu(x: Tensor): Tensor {
  const out = unaryMap('relu', 'max(x, 0.0)', x);
  record('relu', [x], [out], ([g]) => [binaryMap('relu', 'select(0.0, x, y > 0.0)', g!, out)], [out]);
  return out;
}

export function exp(x: Tensor): Tensor {
  const out = unaryMap('exp', 'exp(x)', x);
  record('exp', [x], [out], ([g]) => [binaryMap('exp', 'x * y', g!, out)], [out]);
  return out;
}

/** Natural logarithm (NaN for negative inputs, -inf at 0, like PyTorch). */
export function log(x: Tensor): Tensor {
  const out = unaryMap('log', 'log(x)', x);
  record('log', [x], [out], ([g]) => [binaryMap('log', 'x / y', g!, x)], [x]);
  return out;
}

export function sqrt(x: Tensor): Tensor {
  const out = unaryMap('sqrt', 'sqrt(x)', x);
  record('sqrt', [x], [out], ([g]) => [binaryMap('sqrt', '0.5 * x / y', g!, out)], [out]);
  return out;
}

/** x^p for a scalar exponent (negative bases allowed for integer p). */
export function pow(x: Tensor, p: number): Tensor {
  const out = unaryMap('pow', 'powf(x, alpha)', x, p);
  record('pow', [x], [out], ([g]) => [binaryMap('pow', 'x * beta * powf(y, alpha)', g!, x, p - 1, p)], [x]);
  return out;
}

/** Clamps to [lo, hi]; the gradient passes where lo <= x <= hi. */
export function clamp(x: Tensor, lo = -Infinity, hi = Infinity): Tensor {
  const l = Math.max(lo, -3.4e38);
  const h = Math.min(hi, 3.4e38);
  const out = unaryMap('clamp', 'clamp(x, alpha, beta)', x, l, h);
  record('clamp', [x], [out], ([g]) => [binaryMap('clamp', 'select(0.0, x, y >= alpha && y <= beta)', g!, x, l, h)], [x]);
  return out;
}
