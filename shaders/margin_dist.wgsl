// Margin loss, pass 1: one workgroup (64 threads) per triplet t computes
//   dist[2t] = d_ap = sqrt(|x_a - x_p|² + 1e-8),  dist[2t + 1] = d_an = sqrt(|x_a - x_n|² + 1e-8).
// Indices outside [0, B) are clamped (like gather).
struct Params { B: u32, C: u32, T: u32, pad0: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> ia: array<i32>;
@group(0) @binding(3) var<storage, read> ip: array<i32>;
@group(0) @binding(4) var<storage, read> inn: array<i32>;
@group(0) @binding(5) var<storage, read_write> dist: array<f32>;

var<workgroup> red: array<vec2f, 64>;

fn row(i: i32) -> u32 {
  return min(u32(max(i, 0)), params.B - 1u);
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = wid.x + wid.y * nwg.x;
  if (t >= params.T) { return; }
  let C = params.C;
  let a = row(ia[t]) * C;
  let p = row(ip[t]) * C;
  let n = row(inn[t]) * C;
  var s = vec2f(0.0);
  for (var c = lid; c < C; c += 64u) {
    let xa = x[a + c];
    let dp = x[p + c] - xa;
    let dn = x[n + c] - xa;
    s += vec2f(dp * dp, dn * dn);
  }
  red[lid] = s;
  workgroupBarrier();
  for (var k = 32u; k > 0u; k >>= 1u) {
    if (lid < k) { red[lid] += red[lid + k]; }
    workgroupBarrier();
  }
  if (lid == 0u) {
    dist[2u * t] = sqrt(red[0].x + 1e-8);
    dist[2u * t + 1u] = sqrt(red[0].y + 1e-8);
  }
}
