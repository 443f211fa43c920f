// Max pooling over [planes = N*C, H, W] -> [planes, OH, OW], one thread per output value.
// Grid: x = blocks of WORKGROUP_SIZE outputs within a plane, y (+ z) = plane, so the only
// divisions are of in-plane indices (< 2^22) by uniform divisors (divmod snippet).
// Padding counts as -inf (PyTorch). The first maximum in row-major window order wins (a NaN
// propagates); x and out are f32 or f16 (T), compared as f32; with SAVE_INDEX its in-plane index ih * W + iw is stored (i32) for backward.

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let plane = wid.y + wid.z * nwg.y;
  let j = wid.x * WORKGROUP_SIZE + lid;
  let per = params.oh * params.ow;
  if (plane >= params.planes || j >= per) { return; }
  let q = divmod(j, params.ow, params.invOw);
  let o = plane * per + j;
  let base = plane * params.h * params.w;
  let h0 = i32(q.x * params.sh) - i32(params.ph);
  let w0 = i32(q.y * params.sw) - i32(params.pw);
  var bits = 0xff800000u;
  var best = bitcast<f32>(bits);
  var arg = -1;
  for (var a = 0u; a < params.kh; a++) {
    let ih = h0 + i32(a * params.dh);
    if (ih < 0 || ih >= i32(params.h)) { continue; }
    for (var b = 0u; b < params.kw; b++) {
      let iw = w0 + i32(b * params.dw);
      if (iw < 0 || iw >= i32(params.w)) { continue; }
      let k = ih * i32(params.w) + iw;
      let v = f32(x[base + u32(k)]);
      if (v > best || arg < 0 || (v != v && best == best)) {
        best = v;
        arg = k;
      }
    }
  }
  out[o] = ${T}(best);
#if ${SAVE_INDEX}
  index[o] = arg;
#endif
}
