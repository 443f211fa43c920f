// Average pooling backward without atomics: one thread per input value gathers dy / divisor
// of every output window that contains it (rows oh with oh*sh - ph <= ih < oh*sh - ph + kh,
// the same for columns), the divisor computed as in the forward (avg_pool.wgsl).
// Grid: x = blocks of WORKGROUP_SIZE inputs within a plane, y (+ z) = plane (divmod snippet).

fn divisor(h0: i32, w0: i32) -> f32 {
  let h1 = min(h0 + i32(params.kh), i32(params.h + params.ph));
  let w1 = min(w0 + i32(params.kw), i32(params.w + params.pw));
#if ${COUNT_PAD}
  let count = (h1 - h0) * (w1 - w0);
#else
  let count = (min(h1, i32(params.h)) - max(h0, 0)) * (min(w1, i32(params.w)) - max(w0, 0));
#endif
  return f32(max(count, 1));
}

/** The first and one-past-last output index whose window (size k, step s, padding p) holds i. */
fn windows(i: i32, k: u32, s: u32, p: u32, n: u32) -> vec2i {
  let t = i + i32(p);
  let first = max(0, (t - i32(k) + i32(s)) / i32(s)); // ceil((t - k + 1) / s), clamped at 0
  let last = min(i32(n), t / i32(s) + 1);
  return vec2i(first, last);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let plane = wid.y + wid.z * nwg.y;
  let j = wid.x * WORKGROUP_SIZE + lid;
  let per = params.h * params.w;
  if (plane >= params.planes || j >= per) { return; }
  let q = divmod(j, params.w, params.invW);
  let rows = windows(i32(q.x), params.kh, params.sh, params.ph, params.oh);
  let cols = windows(i32(q.y), params.kw, params.sw, params.pw, params.ow);
  let obase = plane * params.oh * params.ow;
  var s = 0.0;
  for (var oh = rows.x; oh < rows.y; oh++) {
    let h0 = oh * i32(params.sh) - i32(params.ph);
    for (var ow = cols.x; ow < cols.y; ow++) {
      let w0 = ow * i32(params.sw) - i32(params.pw);
      s += dy[obase + u32(oh) * params.ow + u32(ow)] / divisor(h0, w0);
    }
  }
  dx[plane * per + j] = s;
}
