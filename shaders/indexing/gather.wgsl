// Row gather: out[i, :] = x[index[i], :]  (FORWARD)
// and its gradient: dx[r, :] = sum over i with index[i] == r of g[i, :]  (BACKWARD; no float
// atomics in WGSL, so each output element scans the index list; fine for the batch-sized
// index lists this engine gathers with).
// Bindings: src, index (i32), out; src and out hold T (f32, or u32 to move other dtypes' bits).

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let e = globalIndex(gid, nwg);
#if ${BACKWARD}
  // out is [rows, cols], src (the gradient) is [count, cols]
  if (e >= params.rows * params.cols) { return; }
  let r = e / params.cols;
  let c = e % params.cols;
  var acc = 0.0;
  for (var i = 0u; i < params.count; i++) {
    if (u32(index[i]) == r) { acc += src[i * params.cols + c]; }
  }
  out[e] = acc;
#else
  // src is [rows, cols], out is [count, cols]
  if (e >= params.count * params.cols) { return; }
  let i = e / params.cols;
  let c = e % params.cols;
  let r = min(u32(index[i]), params.rows - 1u);
  out[e] = src[r * params.cols + c];
#endif
}
