// Margin loss, pass 1: one workgroup (WORKGROUP_SIZE threads) per triplet t computes
//   dist[2t] = d_ap = sqrt(|x_a - x_p|² + 1e-8),  dist[2t + 1] = d_an = sqrt(|x_a - x_n|² + 1e-8).
// Indices outside [0, B) are clamped (like gather).

var<workgroup> red: array<vec2f, WORKGROUP_SIZE>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = workgroupIndex(wid, nwg);
  if (t >= params.T) { return; }
  let C = params.C;
  let a = batchRow(ia[t]) * C;
  let p = batchRow(ip[t]) * C;
  let n = batchRow(inn[t]) * C;
  var s = vec2f(0.0);
  for (var c = lid; c < C; c += WORKGROUP_SIZE) {
    let xa = x[a + c];
    let dp = x[p + c] - xa;
    let dn = x[n + c] - xa;
    s += vec2f(dp * dp, dn * dn);
  }
  red[lid] = s;
  workgroupBarrier();
  for (var k = WORKGROUP_SIZE / 2u; k > 0u; k >>= 1u) {
    if (lid < k) { red[lid] += red[lid + k]; }
    workgroupBarrier();
  }
  if (lid == 0u) {
    dist[2u * t] = sqrt(red[0].x + 1e-8);
    dist[2u * t + 1u] = sqrt(red[0].y + 1e-8);
  }
}
