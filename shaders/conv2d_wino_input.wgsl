// Winograd F(2x2, 3x3) input transform: each thread takes one 4x4 input patch d (the patch
// of output tile (ty, tx) of image n, channel c: rows 2ty - pad .. +3, zero outside the image)
// and writes the 16 values of Bᵀ d B to V[k, c, p], k = 4i + j, p = (n·TH + ty)·TW + tx,
// so that the 16 products M[k] = U[k] · V[k] are one batched matmul.
//   Bᵀ = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
// One thread per (c, p), p fastest: the 16 stores of a wave are contiguous runs. Rows of V
// are PS >= P long (P rounded up to 4, for the matmul's vec4 path); columns p >= P get zeros.
// conv2d_wino_tile.wgsl is prepended to this source.
// PMAJOR (for the weight gradient, whose product reads V transposed): V[k, p, c] instead,
// with c fastest across threads; the store index is the thread index in both layouts.

struct Params {
  C: u32, P: u32, H: u32, W: u32,
  TH: u32, TW: u32, padH: i32, padW: i32,
  PS: u32, pad0: u32, pad1: u32, pad2: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> V: array<f32>;

fn at(base: u32, iy: i32, ix: i32) -> f32 {
  let inside = iy >= 0 && ix >= 0 && u32(iy) < params.H && u32(ix) < params.W;
  // Branch-free: outside the image the load reads element 0 and select() discards it.
  let v = x[select(0u, base + u32(iy) * params.W + u32(ix), inside)];
  return select(0.0, v, inside);
}

/** Bᵀ applied to four values of one column (or Bᵀᵀ = B to one row). */
fn bt(d: vec4f) -> vec4f {
  return vec4f(d.x - d.z, d.y + d.z, d.z - d.y, d.y - d.w);
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = (wid.x + wid.y * nwg.x) * 256u + li;
  let CP = params.C * params.PS;
  if (i >= CP) { return; }
#if ${PMAJOR}
  let p = i / params.C;
  let c = i - p * params.C;
#else
  let c = i / params.PS;
  let p = i - c * params.PS;
#endif
  if (p >= params.P) {
    put(i, 0u, vec4f(0.0), CP);
    put(i, 4u * CP, vec4f(0.0), CP);
    put(i, 8u * CP, vec4f(0.0), CP);
    put(i, 12u * CP, vec4f(0.0), CP);
    return;
  }
  let tile = tileOf(p, params.TH, params.TW);
  let base = (tile.n * params.C + c) * params.H * params.W;
  let y0 = i32(2u * tile.ty) - params.padH;
  let x0 = i32(2u * tile.tx) - params.padW;
  // d B row by row, then Bᵀ over the rows (written out: no dynamically indexed arrays).
  let r0 = bt(patchRow(base, y0, x0));
  let r1 = bt(patchRow(base, y0 + 1, x0));
  let r2 = bt(patchRow(base, y0 + 2, x0));
  let r3 = bt(patchRow(base, y0 + 3, x0));
  put(i, 0u, r0 - r2, CP);
  put(i, 4u * CP, r1 + r2, CP);
  put(i, 8u * CP, r2 - r1, CP);
  put(i, 12u * CP, r1 - r3, CP);
}

fn patchRow(base: u32, iy: i32, x0: i32) -> vec4f {
  return vec4f(at(base, iy, x0), at(base, iy, x0 + 1), at(base, iy, x0 + 2), at(base, iy, x0 + 3));
}

/** Stores row i of the transformed patch: V[k0 + j, c, p] (or [.., p, c]) for j = 0..3 (`plane` = C·PS). */
fn put(i: u32, k0: u32, v: vec4f, plane: u32) {
  V[k0 + i] = v.x;
  V[k0 + plane + i] = v.y;
  V[k0 + 2u * plane + i] = v.z;
  V[k0 + 3u * plane + i] = v.w;
}
