// Winograd F(2x2, 3x3) weight transform: U[k, r, c] = (G g Gᵀ)[k] for the 3x3 kernel g of GEMM
// row r and column c, with G = [1 0 0; ½ ½ ½; ½ -½ ½; 0 0 1].
// Forward: r = output channel, c = input channel, g = w[r, c].
// FLIP (input gradient, a convolution of dy with the flipped, transposed kernel):
// r = input channel, c = output channel, g[a, b] = w[c, r, 2 - a, 2 - b].

struct Params { R: u32, Ccols: u32, pad0: u32, pad1: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read_write> U: array<f32>;

/** G applied to the three values of one column (or row). */
fn g3(a: f32, b: f32, c: f32) -> vec4f {
  return vec4f(a, 0.5 * (a + b + c), 0.5 * (a - b + c), c);
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = (wid.x + wid.y * nwg.x) * 256u + li;
  let RC = params.R * params.Ccols;
  if (i >= RC) { return; }
  let r = i / params.Ccols;
  let c = i - r * params.Ccols;
#if ${FLIP}
  // Flipped taps: g[t] = w[.., 8 - t].
  let b = (c * params.R + r) * 9u;
  let c0 = g3(w[b + 8u], w[b + 5u], w[b + 2u]);
  let c1 = g3(w[b + 7u], w[b + 4u], w[b + 1u]);
  let c2 = g3(w[b + 6u], w[b + 3u], w[b + 0u]);
#else
  let b = i * 9u;
  let c0 = g3(w[b + 0u], w[b + 3u], w[b + 6u]);
  let c1 = g3(w[b + 1u], w[b + 4u], w[b + 7u]);
  let c2 = g3(w[b + 2u], w[b + 5u], w[b + 8u]);
#endif
  // c0, c1, c2 are the columns of G g (4 x 3); row k of G g Gᵀ is G applied to row k of G g.
  put(i, 0u, g3(c0.x, c1.x, c2.x), RC);
  put(i, 4u * RC, g3(c0.y, c1.y, c2.y), RC);
  put(i, 8u * RC, g3(c0.z, c1.z, c2.z), RC);
  put(i, 12u * RC, g3(c0.w, c1.w, c2.w), RC);
}

/** Stores row k of the transformed kernel: U[k0 + j, r, c] for j = 0..3 (`plane` = R·Ccols). */
fn put(i: u32, k0: u32, v: vec4f, plane: u32) {
  U[k0 + i] = v.x;
  U[k0 + plane + i] = v.y;
  U[k0 + 2u * plane + i] = v.z;
  U[k0 + 3u * plane + i] = v.w;
}
