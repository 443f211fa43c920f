// Winograd F(m x m, 3x3) weight transform (m = ${M}): U[k, r, c] = (G g Gᵀ)[k] for the 3x3
// kernel g of GEMM row r and column c. LOADS, TRANSFORM and STORES are straight-line code
// generated from G (src/engine/kernels/conv2d/winograd-matrices.ts).
// Forward: r = output channel, c = input channel, g = w[r, c] (base = (r · C + c) · 9).
// FLIP (input gradient, a convolution of dy with the flipped, transposed kernel):
// r = input channel, c = output channel, g[a, b] = w[c, r, 2 - a, 2 - b] (the loads read 8 - tap).
// TRANSPOSED: U[k, c, r] instead (the tile-major product, see kernels/conv2d/winograd.ts).

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = globalIndex(gid, nwg);
  let plane = params.R * params.Ccols;
  if (i >= plane) { return; }
#if ${TRANSPOSED}
  let c = i / params.R;
  let r = i - c * params.R;
#else
  let r = i / params.Ccols;
  let c = i - r * params.Ccols;
#endif
#if ${FLIP}
  let base = (c * params.R + r) * 9u;
#else
  let base = (r * params.Ccols + c) * 9u;
#endif
  ${LOADS}
  ${TRANSFORM}
  ${STORES}
}
