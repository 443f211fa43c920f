// Strided elementwise map: out[o] = OP(a[ia], b[ib]) over an iteration shape of rank <= 8.
// Each operand has an offset and strides in iteration coordinates (0 for broadcast dims),
// so the one kernel serves broadcasting arithmetic, expand, permute, slice and concat.
// OP is a WGSL expression in x (from a) and y (from b); alpha/beta are scalar parameters.
// CONTIGUOUS: every operand is dense with the iteration shape (no index arithmetic).

struct Params {
  n: u32, rank: u32, alpha: f32, beta: f32,
  outOffset: u32, aOffset: u32, bOffset: u32, pad0: u32,
  shape0: vec4u, shape1: vec4u,
  outStrides0: vec4u, outStrides1: vec4u,
  aStrides0: vec4u, aStrides1: vec4u,
  bStrides0: vec4u, bStrides1: vec4u,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<${T}>;
#if ${BINARY}
@group(0) @binding(2) var<storage, read> b: array<${T}>;
@group(0) @binding(3) var<storage, read_write> out: array<${T}>;
#else
@group(0) @binding(2) var<storage, read_write> out: array<${T}>;
#endif

fn pick(v0: vec4u, v1: vec4u, d: u32) -> u32 {
  if (d < 4u) { return v0[d]; }
  return v1[d - 4u];
}

// Infinity and NaN cannot be WGSL constants; build them at run time.
fn infinity() -> f32 { var bits = 0x7f800000u; return bitcast<f32>(bits); }
fn nan() -> f32 { var bits = 0x7fc00000u; return bitcast<f32>(bits); }

// x^p with PyTorch's semantics for negative bases and integer exponents.
fn powf(x: f32, p: f32) -> f32 {
  if (p == 0.0) { return 1.0; }
  if (x == 0.0) { return select(infinity(), 0.0, p > 0.0); }
  let r = pow(abs(x), p);
  if (x > 0.0) { return r; }
  if (fract(p) != 0.0) { return nan(); }
  return select(r, -r, fract(p * 0.5) != 0.0);
}

fn op(x: ${T}, y: ${T}) -> ${T} {
  let alpha = params.alpha;
  let beta = params.beta;
  return ${OP};
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= params.n) { return; }
#if ${CONTIGUOUS}
  let ia = i;
  let ib = i;
  let io = i;
#else
  var rem = i;
  var ia = params.aOffset;
  var ib = params.bOffset;
  var io = params.outOffset;
  for (var d = i32(params.rank) - 1; d >= 0; d--) {
    let du = u32(d);
    let size = pick(params.shape0, params.shape1, du);
    let c = rem % size;
    rem = rem / size;
    ia += c * pick(params.aStrides0, params.aStrides1, du);
    ib += c * pick(params.bStrides0, params.bStrides1, du);
    io += c * pick(params.outStrides0, params.outStrides1, du);
  }
#endif
#if ${BINARY}
  out[io] = op(a[ia], b[ib]);
#else
  out[io] = op(a[ia], a[ia]);
#endif
}
