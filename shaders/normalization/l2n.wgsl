// Row L2 normalization of x [rows, len]: y = x / (||x||_2 + 1e-6) (MultiGrain's epsilon
// placement: outside the square root). T threads per row (rows snippet), as pooling/gem.
// BACKWARD: with d = r + 1e-6, r = ||x||: dx = g / d - x * (g . x) / (d^2 r)  (0 for r = 0).

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let r = rowIndex(wid, nwg, lid);
  let lane = rowLane(lid);
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
  let sums = rowSums(lid, a0, a1);
  if (!valid) { return; }
  let norm = sqrt(sums.x);
  let d = norm + params.eps;
#if ${BACKWARD}
  let c = select(sums.y / (d * d * norm), 0.0, norm == 0.0);
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
