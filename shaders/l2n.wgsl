// Row L2 normalization of x [rows, len]: y = x / (||x||_2 + 1e-6) (MultiGrain's epsilon
// placement: outside the square root). T threads per row as in gem.wgsl.
// BACKWARD: with d = r + 1e-6, r = ||x||: dx = g / d - x * (g . x) / (d^2 r)  (0 for r = 0).

struct Params { rows: u32, len: u32, eps: f32, pad0: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
#if ${BACKWARD}
@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
#else
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
#endif

const T = ${T}u;
const WG = ${WG}u;
var<workgroup> red0: array<f32, WG>;
var<workgroup> red1: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let r = (wid.x + wid.y * nwg.x) * (WG / T) + lid / T;
  let lane = lid % T;
  let valid = r < params.rows;
  let len = params.len;
  var a0 = 0.0;
  var a1 = 0.0;
  if (valid) {
    for (var i = lane; i < len; i += T) {
      let v = x[r * len + i];
      a0 += v * v;
#if ${BACKWARD}
      a1 += v * g[r * len + i];
#endif
    }
  }
  red0[lid] = a0;
  red1[lid] = a1;
  workgroupBarrier();
  for (var k = T / 2u; k > 0u; k = k >> 1u) {
    if (lane < k) {
      red0[lid] += red0[lid + k];
      red1[lid] += red1[lid + k];
    }
    workgroupBarrier();
  }
  if (!valid) { return; }
  let head = lid - lane;
  let norm = sqrt(red0[head]);
  let d = norm + params.eps;
#if ${BACKWARD}
  let c = select(red1[head] / (d * d * norm), 0.0, norm == 0.0);
  for (var i = lane; i < len; i += T) {
    let k = r * len + i;
    out[k] = g[k] / d - x[k] * c;
  }
#else
  let inv = 1.0 / d;
  for (var i = lane; i < len; i += T) {
    out[r * len + i] = x[r * len + i] * inv;
  }
#endif
}
