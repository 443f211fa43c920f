// Winograd F(2x2, 3x3) weight gradient, first pass: the output-gradient transform, the
// transpose of conv2d_wino_output.wgsl. Each thread takes the 2x2 tile of dy of GEMM row r
// (output channel) and tile p = (n·TH + ty)·TW + tx (zero where the tile passes the image
// edge) and writes the 16 values of A dy Aᵀ to dM[k, r, p], k = 4i + j, with
//   A = [1 0; 1 1; 1 -1; 0 -1]
// so that dU[k] = dM[k] · V[k]ᵀ (V from conv2d_wino_input.wgsl) is one batched matmul.
// Rows of dM are PS >= P long, as V's; the padding columns get zeros. conv2d_wino_tile.wgsl is
// prepended to this source.

struct Params {
  R: u32, P: u32, OH: u32, OW: u32,
  TH: u32, TW: u32, PS: u32, pad1: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> dM: array<f32>;

fn at(base: u32, oy: u32, ox: u32) -> f32 {
  let inside = oy < params.OH && ox < params.OW;
  // Branch-free: outside the image the load reads element 0 and select() discards it.
  let v = dy[select(0u, base + oy * params.OW + ox, inside)];
  return select(0.0, v, inside);
}

/** A applied to two values: the four values of one row (or column) of A dy Aᵀ. */
fn a2(v: vec2f) -> vec4f {
  return vec4f(v.x, v.x + v.y, v.x - v.y, -v.y);
}

/** Stores row i of the transformed tile: dM[k0 + j, r, p] for j = 0..3 (`plane` = R·PS). */
fn put(i: u32, k0: u32, v: vec4f, plane: u32) {
  dM[k0 + i] = v.x;
  dM[k0 + plane + i] = v.y;
  dM[k0 + 2u * plane + i] = v.z;
  dM[k0 + 3u * plane + i] = v.w;
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = (wid.x + wid.y * nwg.x) * 256u + li;
  let plane = params.R * params.PS;
  if (i >= plane) { return; }
  let r = i / params.PS;
  let p = i - r * params.PS;
  if (p >= params.P) {
    put(i, 0u, vec4f(0.0), plane);
    put(i, 4u * plane, vec4f(0.0), plane);
    put(i, 8u * plane, vec4f(0.0), plane);
    put(i, 12u * plane, vec4f(0.0), plane);
    return;
  }
  let tile = tileOf(p, params.TH, params.TW);
  let base = (tile.n * params.R + r) * params.OH * params.OW;
  let oy = 2u * tile.ty;
  let ox = 2u * tile.tx;
  let top = vec2f(at(base, oy, ox), at(base, oy, ox + 1u));
  let bottom = vec2f(at(base, oy + 1u, ox), at(base, oy + 1u, ox + 1u));
  // A over the rows (top, bottom), then A along each resulting row.
  put(i, 0u, a2(top), plane);
  put(i, 4u * plane, a2(top + bottom), plane);
  put(i, 8u * plane, a2(top - bottom), plane);
  put(i, 12u * plane, a2(-bottom), plane);
}
