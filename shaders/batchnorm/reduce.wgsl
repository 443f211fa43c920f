// Batchnorm, first level of the per-channel reductions over x [N, C, HW].
// TPC threads per channel (a power of two <= WORKGROUP_SIZE), WORKGROUP_SIZE / TPC channels per
// workgroup: workgroup (s, g) reduces chunk s of the M = N*HW values of each of its channels; a channel's threads
// stride over the chunk (neighbouring threads read neighbouring hw: coalesced), then a tree
// over those TPC threads in workgroup memory; one (sum0, sum1) pair per (channel, chunk) goes
// to `partials` [C, chunks, 2]. Short channels (7x7 planes) use few threads per channel and no
// chunks, so no thread idles and the tree stays short (trees are costly on CPU Vulkan).
// VEC4 (when HW % 4 == 0): every size and index in units of 4 neighbouring values of a channel
// (params.hw, m, chunkLen given in those units), read as vec4 (on lavapipe a vec4 load costs
// about 2.7 scalar ones, not 4).
//   BACKWARD = false: statistics of x shifted by K = x[0, c, 0] (the channel's first value, so
//     that sum of squares minus square of sum does not cancel): sums of (x-K) and (x-K)^2.
//   BACKWARD = true: sums of dy and dy * (x - mean[c]), mean read from row 0 of `stats`.
//     MASK: dy taken as 0 where the forward output `y` (after its ReLU) is not positive, so
//     that a fused ReLU's backward needs no pass of its own.

// Bindings: x, dy and stats (BACKWARD), partials, y (MASK); x, dy and y hold T.
#if ${VEC4}
alias T = vec4f;
#else
alias T = f32;
#endif

const TPC = ${TPC}u;
var<workgroup> red0: array<f32, WORKGROUP_SIZE>;
var<workgroup> red1: array<f32, WORKGROUP_SIZE>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let s = wid.x;
  let lane = lid % TPC;
  let c = wid.y * (WORKGROUP_SIZE / TPC) + lid / TPC;
  let valid = c < params.c;
  let hw = params.hw;
  let begin = s * params.chunkLen;
  let end = min(begin + params.chunkLen, params.m);
  var a0 = T(0.0);
  var a1 = T(0.0);
  if (valid) {
#if ${BACKWARD}
  let shift = T(stats[c]);
#elif ${VEC4}
  let shift = T(x[c * hw].x);
#else
  let shift = x[c * hw];
#endif
  // (n, hw) of element m = begin + lid, then advanced incrementally: no division per value
  let stride = params.c * hw;
  let first = begin + lane;
  let n0 = first / hw;
  var j = first - n0 * hw;
  var base = n0 * stride + c * hw;
  for (var m = first; m < end; m += TPC) {
    let i = base + j;
    let v = x[i] - shift;
#if ${BACKWARD}
#if ${MASK}
    let g = select(T(0.0), dy[i], y[i] > T(0.0));
#else
    let g = dy[i];
#endif
    a0 += g;
    a1 += g * v;
#else
    a0 += v;
    a1 += v * v;
#endif
    j += TPC;
    while (j >= hw) {
      j -= hw;
      base += stride;
    }
  }
  }
#if ${VEC4}
  red0[lid] = a0.x + a0.y + a0.z + a0.w;
  red1[lid] = a1.x + a1.y + a1.z + a1.w;
#else
  red0[lid] = a0;
  red1[lid] = a1;
#endif
  workgroupBarrier();
  for (var k = TPC / 2u; k > 0u; k = k >> 1u) {
    if (lane < k) {
      red0[lid] += red0[lid + k];
      red1[lid] += red1[lid + k];
    }
    workgroupBarrier();
  }
  if (lane == 0u && valid) {
    let o = (c * params.chunks + s) * 2u;
    partials[o] = red0[lid];
    partials[o + 1u] = red1[lid];
  }
}
