// Split-K reduction for the convolution weight gradient: out[i] = sum_s part[s * size + i].
// 1-D grid (folded into 2-D above the per-dimension limit), one element per thread.

struct Params { size: u32, splits: u32, pad0: u32, pad1: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> part: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = (wid.x + wid.y * nwg.x) * 256u + li;
  if (i >= params.size) { return; }
  var s = 0.0;
  for (var k = 0u; k < params.splits; k++) {
    s += part[k * params.size + i];
  }
  out[i] = s;
}
