// Winograd F(2x2, 3x3) output transform: each thread takes the 16 products m[k, r, p] of one
// GEMM row r (output channel) and tile p = (n·TH + ty)·TW + tx, forms the 2x2 outputs Aᵀ m A,
//   Aᵀ = [1 1 1 0; 0 1 -1 -1]
// applies the convolution's fused epilogue (conv2d_epilogue.wgsl, prepended to this source)
// and stores the outputs that fall inside the image. conv2d_wino_tile.wgsl is prepended too.
// Rows of m are PS >= P long (the padding columns are skipped).

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

/** Row k of the 4x4 product block: m[4k + j, r, p] for j = 0..3 (`plane` = R·PS). */
fn row(k: u32, i: u32, plane: u32) -> vec4f {
  let b = 4u * k * plane + i;
  return vec4f(m[b], m[b + plane], m[b + 2u * plane], m[b + 3u * plane]);
}

/** Aᵀ applied to four values (a row of Aᵀ m, giving the two outputs of that row). */
fn at2(v: vec4f) -> vec2f {
  return vec2f(v.x + v.y + v.z, v.y - v.z - v.w);
}

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
  let r = i / params.PS;
  let p = i - r * params.PS;
  if (p >= params.P) { return; }
  let tile = tileOf(p, params.TH, params.TW);
  let m0 = row(0u, i, plane);
  let m1 = row(1u, i, plane);
  let m2 = row(2u, i, plane);
  let m3 = row(3u, i, plane);
  let top = at2(m0 + m1 + m2);
  let bottom = at2(m1 - m2 - m3);
  let imgBase = (tile.n * params.R + r) * params.OH * params.OW;
  let oy = 2u * tile.ty;
  let ox = 2u * tile.tx;
  store(r, oy, ox, imgBase, top.x);
  store(r, oy, ox + 1u, imgBase, top.y);
  store(r, oy + 1u, ox, imgBase, bottom.x);
  store(r, oy + 1u, ox + 1u, imgBase, bottom.y);
}
