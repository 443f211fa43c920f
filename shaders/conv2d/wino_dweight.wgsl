// Winograd F(m x m, 3x3) weight gradient, last pass (m = ${M}): the transpose of
// wino_weight.wgsl. dW[r, c] = Gᵀ dU[r, c] G (3x3) from the t² values dU[k, r, c],
// written in PyTorch's weight layout [R = Cout, C = Cin, 3, 3]. One thread per (r, c).
// LOADS, TRANSFORM and STORES are straight-line code generated from Gᵀ.

// VEC4 (C % 4 == 0): four neighbouring filters (r, c..c+3) per thread: vec4 loads of dU, and
// their 36 consecutive weights stored as 9 vec4 (dU and dW are then vec4 arrays).

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = globalIndex(gid, nwg);
#if ${VEC4}
  let plane4 = params.R * params.Ccols / 4u;
  if (i >= plane4) { return; }
  let o4 = i * 9u;
#else
  let plane = params.R * params.Ccols;
  if (i >= plane) { return; }
  let o = i * 9u;
#endif
  ${LOADS}
  ${TRANSFORM}
  ${STORES}
}
