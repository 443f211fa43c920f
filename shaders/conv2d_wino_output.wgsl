// Winograd F(m x m, 3x3) output transform (m = ${M}, tiles of t = m + 2): each thread takes
// the t² products m[k, r, p] of one GEMM row r (output channel) and tile p, forms the m x m
// outputs Aᵀ m A, applies the convolution's fused epilogue (conv2d_epilogue.wgsl) and stores
// the outputs that fall inside the image. LOADS, TRANSFORM and STORES are straight-line code
// generated from Aᵀ (src/engine/ops/winograd-transforms.ts). conv2d_wino_tile.wgsl and
// conv2d_epilogue.wgsl are prepended to this source. Rows of m are PS >= P long (the padding
// columns are skipped). TRANSPOSED: m[k, p, r] instead (the tile-major product).

struct Params {
  R: u32, P: u32, OH: u32, OW: u32,
  TH: u32, TW: u32, epi: u32, PS: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> m: array<f32>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>;
// Epilogue operands (conv2d_epilogue.wgsl).
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read> scale: array<f32>;
@group(0) @binding(5) var<storage, read> shift: array<f32>;
@group(0) @binding(6) var<storage, read> residual: array<f32>;

const M = ${M}u;

fn store(ch: u32, oy: u32, ox: u32, imgBase: u32, acc: f32) {
  if (oy < params.OH && ox < params.OW) {
    let index = imgBase + oy * params.OW + ox;
    Y[index] = epilogue(ch, index, acc);
  }
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = (wid.x + wid.y * nwg.x) * 256u + li;
  let plane = params.R * params.PS;
  if (i >= plane) { return; }
#if ${TRANSPOSED}
  let p = i / params.R;
  let r = i - p * params.R;
#else
  let r = i / params.PS;
  let p = i - r * params.PS;
#endif
  if (p >= params.P) { return; }
  let tile = tileOf(p, params.TH, params.TW);
  let imgBase = (tile.n * params.R + r) * params.OH * params.OW;
  let oy = M * tile.ty;
  let ox = M * tile.tx;
  ${LOADS}
  ${TRANSFORM}
  ${STORES}
}
