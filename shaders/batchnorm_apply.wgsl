// Per-channel affine map over [N, C, HW], one pass (batchnorm forward and backward, and the
// eval-mode fusion of batchnorm + residual add + ReLU):
//   out = [(x - P[oU + c])] * P[oS + c] [+ Q[oT + c]] [+ y * Q[oS2 + c]] [+ residual], [ReLU]
// P and Q are coefficient buffers (often one buffer bound twice), read at uniform offsets.
// VEC4 (when HW % 4 == 0): each thread maps 4 neighbouring values of one channel.
// MASK (with SECOND, a fused ReLU's backward): the y term counts only where `mask` (the
// forward output after its ReLU) is positive.

struct Params {
  n: u32, c: u32, hw: u32, oU: u32,
  oS: u32, oT: u32, oS2: u32, pad0: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<${V}>;
@group(0) @binding(2) var<storage, read> P: array<f32>;
#if ${USE_Q}
@group(0) @binding(3) var<storage, read> Q: array<f32>;
#endif
#if ${SECOND}
@group(0) @binding(${B_Y}) var<storage, read> y: array<${V}>;
#endif
#if ${RESIDUAL}
@group(0) @binding(${B_R}) var<storage, read> residual: array<${V}>;
#endif
#if ${MASK}
@group(0) @binding(${B_M}) var<storage, read> mask: array<${V}>;
#endif
@group(0) @binding(${B_OUT}) var<storage, read_write> out: array<${V}>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= params.n) { return; }
  let c = ((i * ${W}) / params.hw) % params.c;
#if ${CENTER}
  var v = (x[i] - P[params.oU + c]) * P[params.oS + c];
#else
  var v = x[i] * P[params.oS + c];
#endif
#if ${SHIFT}
  v += Q[params.oT + c];
#endif
#if ${MASK}
  v += select(${V}(0.0), y[i], mask[i] > ${V}(0.0)) * Q[params.oS2 + c];
#elif ${SECOND}
  v += y[i] * Q[params.oS2 + c];
#endif
#if ${RESIDUAL}
  v += residual[i];
#endif
#if ${RELU}
  v = max(v, ${V}(0.0));
#endif
  out[i] = v;
}
