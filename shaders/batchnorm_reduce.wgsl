// Batchnorm, first level of the per-channel reductions over x [N, C, HW].
// Workgroup (s, c) reduces chunk s of channel c's M = N*HW values: WG threads stride over
// the chunk (neighbouring threads read neighbouring hw: coalesced), then a tree in workgroup
// memory; one (sum0, sum1) pair per (channel, chunk) goes to `partials` [C, chunks, 2].
//   BACKWARD = false: statistics of x shifted by K = x[0, c, 0] (the channel's first value, so
//     that sum of squares minus square of sum does not cancel): sums of (x-K) and (x-K)^2.
//   BACKWARD = true: sums of dy and dy * (x - mean[c]), mean read from row 0 of `stats`.

struct Params {
  c: u32, hw: u32, m: u32, chunks: u32,
  chunkLen: u32, pad0: u32, pad1: u32, pad2: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
#if ${BACKWARD}
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read> stats: array<f32>;
@group(0) @binding(4) var<storage, read_write> partials: array<f32>;
#else
@group(0) @binding(2) var<storage, read_write> partials: array<f32>;
#endif

const WG = ${WG}u;
var<workgroup> red0: array<f32, WG>;
var<workgroup> red1: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let s = wid.x;
  let c = wid.y;
  let hw = params.hw;
  let begin = s * params.chunkLen;
  let end = min(begin + params.chunkLen, params.m);
#if ${BACKWARD}
  let shift = stats[c];
#else
  let shift = x[c * hw];
#endif
  var a0 = 0.0;
  var a1 = 0.0;
  // (n, hw) of element m = begin + lid, then advanced incrementally: no division per value
  let stride = params.c * hw;
  let first = begin + lid;
  let n0 = first / hw;
  var j = first - n0 * hw;
  var base = n0 * stride + c * hw;
  for (var m = first; m < end; m += WG) {
    let i = base + j;
    let v = x[i] - shift;
#if ${BACKWARD}
    let g = dy[i];
    a0 += g;
    a1 += g * v;
#else
    a0 += v;
    a1 += v * v;
#endif
    j += WG;
    while (j >= hw) {
      j -= hw;
      base += stride;
    }
  }
  red0[lid] = a0;
  red1[lid] = a1;
  workgroupBarrier();
  for (var k = WG / 2u; k > 0u; k = k >> 1u) {
    if (lid < k) {
      red0[lid] += red0[lid + k];
      red1[lid] += red1[lid + k];
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    let o = (c * params.chunks + s) * 2u;
    partials[o] = red0[0];
    partials[o + 1u] = red1[0];
  }
}
