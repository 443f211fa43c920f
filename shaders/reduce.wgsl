// Sum over a set of axes, times `scale` (1 for sum, 1/count for mean).
// The input is addressed as kept coordinates (one per output element) plus reduced
// coordinates, each with their own shape and strides, so any set of axes reduces in place.
// WG_PER_OUTPUT: one workgroup of 64 threads per output element with a tree reduction in
// workgroup memory (long reductions, few outputs: batchnorm-like); otherwise one thread per
// output element (short reductions).

struct Params {
  nOut: u32, nRed: u32, keptRank: u32, redRank: u32,
  scale: f32, pad0: u32, pad1: u32, pad2: u32,
  keptShape0: vec4u, keptShape1: vec4u,
  keptStrides0: vec4u, keptStrides1: vec4u,
  redShape0: vec4u, redShape1: vec4u,
  redStrides0: vec4u, redStrides1: vec4u,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

fn pick(v0: vec4u, v1: vec4u, d: u32) -> u32 {
  if (d < 4u) { return v0[d]; }
  return v1[d - 4u];
}

fn keptOffset(o: u32) -> u32 {
  var rem = o;
  var off = 0u;
  for (var d = i32(params.keptRank) - 1; d >= 0; d--) {
    let size = pick(params.keptShape0, params.keptShape1, u32(d));
    off += (rem % size) * pick(params.keptStrides0, params.keptStrides1, u32(d));
    rem = rem / size;
  }
  return off;
}

fn redOffset(r: u32) -> u32 {
  var rem = r;
  var off = 0u;
  for (var d = i32(params.redRank) - 1; d >= 0; d--) {
    let size = pick(params.redShape0, params.redShape1, u32(d));
    off += (rem % size) * pick(params.redStrides0, params.redStrides1, u32(d));
    rem = rem / size;
  }
  return off;
}

#if ${WG_PER_OUTPUT}
var<workgroup> partial: array<f32, 64>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let o = wid.x + wid.y * nwg.x;
  var acc = 0.0;
  if (o < params.nOut) {
    let base = keptOffset(o);
    for (var r = lid; r < params.nRed; r += 64u) {
      acc += x[base + redOffset(r)];
    }
  }
  partial[lid] = acc;
  workgroupBarrier();
  for (var s = 32u; s > 0u; s = s >> 1u) {
    if (lid < s) { partial[lid] += partial[lid + s]; }
    workgroupBarrier();
  }
  if (lid == 0u && o < params.nOut) { out[o] = partial[0] * params.scale; }
}
#else
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let o = gid.x + gid.y * nwg.x * 256u;
  if (o >= params.nOut) { return; }
  let base = keptOffset(o);
  var acc = 0.0;
  for (var r = 0u; r < params.nRed; r++) {
    acc += x[base + redOffset(r)];
  }
  out[o] = acc * params.scale;
}
#endif
