// Out[z] = In[z]ᵀ for a batch of row-major R x C matrices (Out is C x R): the matmul's staging copy
// of a transposed right operand, so that the product reads it along N (vec4, unit stride).
// Each invocation moves a 4 x 4 block; a workgroup (WORKGROUP_SIZE x WORKGROUP_SIZE = 8 x 8
// invocations) a 32 x 32 tile, so that it reads 32 rows of In and writes 32 rows of Out in whole
// 128-byte pieces (cache lines on a CPU, coalesced segments on a GPU). No workgroup memory.
// Dispatch: x = ceil(C / 32), y = ceil(R / 32), z = batch.

// Bindings: In, Out (f32).

@compute @workgroup_size(WORKGROUP_SIZE, WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let R = params.R;
  let C = params.C;
  let c0 = (wid.x * WORKGROUP_SIZE + lid.x) * 4u;
  let r0 = (wid.y * WORKGROUP_SIZE + lid.y) * 4u;
  if (c0 >= C || r0 >= R) { return; }
  let base = wid.z * R * C;
  // Rows and columns past the end are clamped (read twice, never stored).
  let cs = min(vec4u(c0) + vec4u(0u, 1u, 2u, 3u), vec4u(C - 1u));
  let o0 = base + min(r0, R - 1u) * C;
  let o1 = base + min(r0 + 1u, R - 1u) * C;
  let o2 = base + min(r0 + 2u, R - 1u) * C;
  let o3 = base + min(r0 + 3u, R - 1u) * C;
  let v0 = vec4f(In[o0 + cs.x], In[o0 + cs.y], In[o0 + cs.z], In[o0 + cs.w]);
  let v1 = vec4f(In[o1 + cs.x], In[o1 + cs.y], In[o1 + cs.z], In[o1 + cs.w]);
  let v2 = vec4f(In[o2 + cs.x], In[o2 + cs.y], In[o2 + cs.z], In[o2 + cs.w]);
  let v3 = vec4f(In[o3 + cs.x], In[o3 + cs.y], In[o3 + cs.z], In[o3 + cs.w]);
  // Column j of the block (rows r0..r0+3) becomes row c0 + j of Out.
  let cols = array<vec4f, 4>(
    vec4f(v0.x, v1.x, v2.x, v3.x),
    vec4f(v0.y, v1.y, v2.y, v3.y),
    vec4f(v0.z, v1.z, v2.z, v3.z),
    vec4f(v0.w, v1.w, v2.w, v3.w),
  );
  for (var j = 0u; j < 4u; j++) {
    let c = c0 + j;
    if (c >= C) { break; }
    let o = base + c * R + r0;
    for (var i = 0u; i < 4u; i++) {
      if (r0 + i < R) { Out[o + i] = cols[j][i]; }
    }
  }
}
