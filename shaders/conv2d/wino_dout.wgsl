// Winograd F(m x m, 3x3) weight gradient, first pass (m = ${M}, tiles of t = m + 2): the
// output-gradient transform, the transpose of wino_output.wgsl. Each thread takes the
// m x m tile of dy of GEMM row r (output channel) and tile p (zero where the tile passes the
// image edge) and writes the t² values of A dy Aᵀ to dM[k, r, p], k = t·i + j, so that
// dU[k] = dM[k] · V[k]ᵀ (V from wino_input.wgsl) is one batched matmul. LOADS,
// TRANSFORM and STORES are straight-line code generated from A; tiles are addressed by the
// wino_tile snippet. Rows of dM are PS >= P long, as V's; the padding columns get zeros.

const M = ${M}u;

fn at(base: u32, oy: u32, ox: u32, valid: bool) -> f32 {
  let inside = valid && oy < params.OH && ox < params.OW;
  // Branch-free: outside the image the load reads element 0 and select() discards it.
  let v = dy[select(0u, base + oy * params.OW + ox, inside)];
  return select(0.0, v, inside);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = globalIndex(gid, nwg);
  let plane = params.R * params.PS;
  if (i >= plane) { return; }
  let r = i / params.PS;
  let p = i - r * params.PS;
  let valid = p < params.P;
  let tile = tileOf(min(p, params.P - 1u), params.TH, params.TW);
  let base = (tile.n * params.R + r) * params.OH * params.OW;
  let oy = M * tile.ty;
  let ox = M * tile.tx;
  ${LOADS}
  ${TRANSFORM}
  ${STORES}
}
