// Winograd F(m x m, 3x3) input transform (m = ${M}, tiles of t = m + 2): each thread takes one
// t x t input patch d (of output tile (ty, tx) of image n, channel c: rows m·ty - pad .. + t - 1,
// zero outside the image) and writes the t² values of Bᵀ d B to V[k, c, p], k = t·i + j,
// p = (n·TH + ty)·TW + tx, so that the t² products M[k] = U[k] · V[k] are one batched matmul.
// LOADS, TRANSFORM and STORES are straight-line code generated from Bᵀ
// (src/engine/kernels/conv2d/winograd-matrices.ts); tiles are addressed by the wino_tile snippet.
// One thread per (c, p), p fastest: the stores of a wave are contiguous runs. Rows of V are
// PS >= P long (P rounded up to 4, for the matmul's vec4 path); columns p >= P get zeros.
// PMAJOR (for the weight gradient, whose product reads V transposed, and the tile-major
// forward product): V[k, p, c] instead, with c fastest across threads; the store index is the thread index in both layouts.

const M = ${M}u;

fn at(base: u32, iy: i32, ix: i32, valid: bool) -> f32 {
  let inside = valid && iy >= 0 && ix >= 0 && u32(iy) < params.H && u32(ix) < params.W;
  // Branch-free: outside the image the load reads element 0 and select() discards it.
  let v = x[select(0u, base + u32(iy) * params.W + u32(ix), inside)];
  return select(0.0, v, inside);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = globalIndex(gid, nwg);
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
