// Winograd F(m x m, 3x3) output transform (m = ${M}, tiles of t = m + 2): each thread takes
// the t² products m[k, r, p] of one GEMM row r (output channel) and tile p, forms the m x m
// outputs Aᵀ m A, applies the convolution's fused epilogue (the conv_epilogue snippet) and stores
// the outputs that fall inside the image. LOADS, TRANSFORM and STORES are straight-line code
// generated from Aᵀ (src/engine/kernels/conv2d/winograd-matrices.ts); tiles are addressed by the
// wino_tile snippet. Rows of m are PS >= P long (the padding columns are skipped). TRANSPOSED: m[k, p, r] instead (the tile-major product).

const M = ${M}u;

fn store(ch: u32, oy: u32, ox: u32, imgBase: u32, acc: f32) {
  if (oy < params.OH && ox < params.OW) {
    let index = imgBase + oy * params.OW + ox;
    Y[index] = epilogue(ch, index, acc);
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = globalIndex(gid, nwg);
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
