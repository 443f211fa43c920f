// Winograd F(m x m, 3x3) weight gradient, last pass (m = ${M}): the transpose of
// conv2d_wino_weight.wgsl. dW[r, c] = Gᵀ dU[r, c] G (3x3) from the t² values dU[k, r, c],
// written in PyTorch's weight layout [R = Cout, C = Cin, 3, 3]. One thread per (r, c).
// LOADS, TRANSFORM and STORES are straight-line code generated from Gᵀ.

struct Params { R: u32, Ccols: u32, pad0: u32, pad1: u32 }

@group(0) @binding(0) var<uniform> params: Params;
#if ${VEC4}
// VEC4 (C % 4 == 0): four neighbouring filters (r, c..c+3) per thread: vec4 loads of dU, and
// their 36 consecutive weights stored as 9 vec4.
@group(0) @binding(1) var<storage, read> dU: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> dW: array<vec4f>;
#else
@group(0) @binding(1) var<storage, read> dU: array<f32>;
@group(0) @binding(2) var<storage, read_write> dW: array<f32>;
#endif

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = (wid.x + wid.y * nwg.x) * 256u + li;
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
