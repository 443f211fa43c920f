// Split-K reduction for the convolution weight gradient: out[i] = sum_s part[s * size + i].
// 1-D grid (folded into 2-D above the per-dimension limit), one element per thread.

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = globalIndex(gid, nwg);
  if (i >= params.size) { return; }
  var s = 0.0;
  for (var k = 0u; k < params.splits; k++) {
    s += part[k * params.size + i];
  }
  out[i] = s;
}
