// Winograd F(m x m, 3x3) input transform (m = ${M}, tiles of t = m + 2): each thread takes one
// t x t input patch d (of output tile (ty, tx) of image n, channel c: rows m·ty - pad .. + t - 1,
// zero outside the image) and writes the t² values of Bᵀ d B to V[k, c, p], k = t·i + j,
// p = (n·TH + ty)·TW + tx, so that the t² products M[k] = U[k] · V[k] are one batched matmul.
// LOADS, TRANSFORM and STORES are straight-line code generated from Bᵀ
// (src/engine/ops/winograd-transforms.ts). conv2d_wino_tile.wgsl is prepended to this source.
// One thread per (c, p), p fastest: the stores of a wave are contiguous runs. Rows of V are
// PS >= P long (P rounded up to 4, for the matmul's vec4 path); columns p >= P get zeros.
// PMAJOR (for the weight gradient, whose product reads V transposed, and the tile-major
// forward product): V[k, p, c] instead,
// with c fastest across threads; the store index is the thread index in both layouts.

struct Params {
  C: u32, P: u32, H: u32, W: u32,
  TH: u32, TW: u32, padH: i32, padW: i32,
  PS: u32, pad0: u32, pad1: u32, pad2: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> V: array<f32>;

const M = ${M}u;

fn at(base: u32, iy: i32, ix: i32, valid: bool) -> f32 {
  let inside = valid && iy >= 0 && ix >= 0 && u32(iy) < params.H && u32(ix) < params.W;
  // Branch-free: outside the image the load reads element 0 and select() discards it.
  let v = x[select(0u, base + u32(iy) * params.W + u32(ix), inside)];
  return select(0.0, v, inside);
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = (wid.x + wid.y * nwg.x) * 256u + li;
  let plane = params.C * params.PS;
  if (i >= plane) { return; }
#if ${PMAJOR}
  let p = i / params.C;
  let c = i - p * params.C;
#else
  let c = i / params.PS;
  let p = i - c * params.PS;
#endif
  let valid = p < params.P;
  let tile = tileOf(min(p, params.P - 1u), params.TH, params.TW);
  let base = (tile.n * params.C + c) * params.H * params.W;
  let y0 = i32(M * tile.ty) - params.padH;
  let x0 = i32(M * tile.tx) - params.padW;
  ${LOADS}
  ${TRANSFORM}
  ${STORES}
}
