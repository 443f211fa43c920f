// Sum over a set of axes, times `scale` (1 for sum, 1/count for mean).
// The input is addressed as kept coordinates (one per output element) plus reduced
// coordinates, each with their own shape and strides, so any set of axes reduces in place.
// WG_PER_OUTPUT: one workgroup of 64 threads per output element with a tree reduction in
// workgroup memory (long reductions, few outputs: batchnorm-like); otherwise one thread per
// output element (short reductions).

fn keptOffset(o: u32) -> u32 {
  var rem = o;
  var off = 0u;
  for (var d = i32(params.keptRank) - 1; d >= 0; d--) {
    let size = keptShapeAt(u32(d));
    off += (rem % size) * keptStridesAt(u32(d));
    rem = rem / size;
  }
  return off;
}

fn redOffset(r: u32) -> u32 {
  var rem = r;
  var off = 0u;
  for (var d = i32(params.redRank) - 1; d >= 0; d--) {
    let size = redShapeAt(u32(d));
    off += (rem % size) * redStridesAt(u32(d));
    rem = rem / size;
  }
  return off;
}

#if ${WG_PER_OUTPUT}
var<workgroup> partial: array<f32, WORKGROUP_SIZE>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let o = workgroupIndex(wid, nwg);
  var acc = 0.0;
  if (o < params.nOut) {
    let base = keptOffset(o);
    for (var r = lid; r < params.nRed; r += WORKGROUP_SIZE) {
      acc += x[base + redOffset(r)];
    }
  }
  partial[lid] = acc;
  workgroupBarrier();
  for (var s = WORKGROUP_SIZE / 2u; s > 0u; s = s >> 1u) {
    if (lid < s) { partial[lid] += partial[lid + s]; }
    workgroupBarrier();
  }
  if (lid == 0u && o < params.nOut) { out[o] = partial[0] * params.scale; }
}
#else
@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let o = globalIndex(gid, nwg);
  if (o >= params.nOut) { return; }
  let base = keptOffset(o);
  var acc = 0.0;
  for (var r = 0u; r < params.nRed; r++) {
    acc += x[base + redOffset(r)];
  }
  out[o] = acc * params.scale;
}
#endif
