// Winograd F(2x2, 3x3) weight gradient, last pass: the transpose of conv2d_wino_weight.wgsl.
// dW[r, c] = Gᵀ dU[r, c] G (3x3) from the 16 values dU[k, r, c], with
//   Gᵀ = [1 ½ ½ 0; 0 ½ -½ 0; 0 ½ ½ 1]
// written in PyTorch's weight layout [R = Cout, C = Cin, 3, 3]. One thread per (r, c).

struct Params { R: u32, Ccols: u32, pad0: u32, pad1: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> dU: array<f32>;
@group(0) @binding(2) var<storage, read_write> dW: array<f32>;

/** Gᵀ applied to four values: three values of one row (or column) of Gᵀ dU G. */
fn gt(u: vec4f) -> vec3f {
  return vec3f(u.x + 0.5 * (u.y + u.z), 0.5 * (u.y - u.z), 0.5 * (u.y + u.z) + u.w);
}

/** Row k of dU[., r, c]: dU[4k + j] for j = 0..3 (`plane` = R·Ccols). */
fn row(k: u32, i: u32, plane: u32) -> vec4f {
  let b = 4u * k * plane + i;
  return vec4f(dU[b], dU[b + plane], dU[b + 2u * plane], dU[b + 3u * plane]);
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = (wid.x + wid.y * nwg.x) * 256u + li;
  let plane = params.R * params.Ccols;
  if (i >= plane) { return; }
  let u0 = row(0u, i, plane);
  let u1 = row(1u, i, plane);
  let u2 = row(2u, i, plane);
  let u3 = row(3u, i, plane);
  // Gᵀ over the rows, then Gᵀ along each resulting row.
  let a = gt(vec4f(u0.x, u1.x, u2.x, u3.x));
  let b = gt(vec4f(u0.y, u1.y, u2.y, u3.y));
  let c = gt(vec4f(u0.z, u1.z, u2.z, u3.z));
  let d = gt(vec4f(u0.w, u1.w, u2.w, u3.w));
  // a, b, c, d are the columns of Gᵀ dU (3 x 4); row m of the result is gt of row m.
  let o = i * 9u;
  let r0 = gt(vec4f(a.x, b.x, c.x, d.x));
  let r1 = gt(vec4f(a.y, b.y, c.y, d.y));
  let r2 = gt(vec4f(a.z, b.z, c.z, d.z));
  dW[o + 0u] = r0.x; dW[o + 1u] = r0.y; dW[o + 2u] = r0.z;
  dW[o + 3u] = r1.x; dW[o + 4u] = r1.y; dW[o + 5u] = r1.z;
  dW[o + 6u] = r2.x; dW[o + 7u] = r2.y; dW[o + 8u] = r2.z;
}
