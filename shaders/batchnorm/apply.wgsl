// Per-channel affine map over [N, C, HW], one pass (batchnorm forward and backward, and the
// eval-mode fusion of batchnorm + residual add + ReLU):
//   out = [(x - P[oU + c])] * P[oS + c] [+ Q[oT + c]] [+ y * Q[oS2 + c]] [+ residual], [ReLU]
// P and Q are coefficient buffers (often one buffer bound twice), read at uniform offsets.
// VEC4 (when HW % 4 == 0): each thread maps 4 neighbouring values of one channel.
// MASK (with SECOND, a fused ReLU's backward): the y term counts only where `mask` (the
// forward output after its ReLU) is positive.

// Bindings: x, P, Q (USE_Q), y (SECOND), residual (RESIDUAL), mask (MASK), out; x, y, residual,
// mask and out hold V (vec4f when HW % 4 == 0, else f32); W is its width (4u or 1u).

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = globalIndex(gid, nwg);
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
