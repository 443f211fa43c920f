// Dtype conversion of a dense tensor: out[i] = TO(x[i]), f32 <-> f16 (the edges of
// half-precision inference). f32 -> f16 rounds to nearest even; beyond ±65504 it is ±inf.

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = globalIndex(gid, nwg);
  if (i >= params.n) { return; }
  out[i] = ${TO}(x[i]);
}
