// Average pooling over [planes = N*C, H, W] -> [planes, OH, OW], one thread per output value,
// with PyTorch's AvgPool2d divisor: the window clipped to the padded image [-p, H + p) (which
// only cuts it in ceil mode) when padding counts (COUNT_PAD), else clipped to the image itself
// (count_include_pad=False, as the NASNets use: border windows average fewer values).
// Grid: x = blocks of WORKGROUP_SIZE outputs within a plane, y (+ z) = plane (divmod snippet).

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let plane = wid.y + wid.z * nwg.y;
  let j = wid.x * WORKGROUP_SIZE + lid;
  let per = params.oh * params.ow;
  if (plane >= params.planes || j >= per) { return; }
  let q = divmod(j, params.ow, params.invOw);
  let h0 = i32(q.x * params.sh) - i32(params.ph);
  let w0 = i32(q.y * params.sw) - i32(params.pw);
  let h1 = min(h0 + i32(params.kh), i32(params.h + params.ph));
  let w1 = min(w0 + i32(params.kw), i32(params.w + params.pw));
  let ha = max(h0, 0);
  let wa = max(w0, 0);
  let hb = min(h1, i32(params.h));
  let wb = min(w1, i32(params.w));
  let base = plane * params.h * params.w;
  var s = 0.0;
  for (var ih = ha; ih < hb; ih++) {
    let row = base + u32(ih) * params.w;
    for (var iw = wa; iw < wb; iw++) {
      s += x[row + u32(iw)];
    }
  }
#if ${COUNT_PAD}
  let count = (h1 - h0) * (w1 - w0);
#else
  let count = (hb - ha) * (wb - wa);
#endif
  out[plane * per + j] = s / f32(max(count, 1));
}
