// Row pooling of x [rows, len] (rows = N*C, len = H*W) -> out [rows]:
//   GeM: out = (mean_i max(x_i, eps)^p)^(1/p); p = 1 is the mean of the clamped values and
//   p = +inf (any p above 3e38) their maximum. p is read on the GPU (P_BUFFER: element 0 of a
//   storage buffer, so a learnable p needs no readback; otherwise the uniform).
//   AVG: plain mean of x (global average pooling, no clamp).
// T threads per row (a power of two <= 256), WORKGROUP_SIZE / T rows per workgroup (rows snippet).

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let r = rowIndex(wid, nwg, lid);
  let lane = rowLane(lid);
  let valid = r < params.rows;
  let len = params.len;
#if ${P_BUFFER}
  let p = pbuf[0];
#else
  let p = params.p;
#endif
  let isMax = p > 3.0e38;
  var acc = 0.0;
  if (valid) {
    for (var i = lane; i < len; i += T) {
      let v = x[r * len + i];
#if ${AVG}
      acc += v;
#else
      let xc = max(v, params.eps);
      if (isMax) {
        acc = max(acc, xc);
      } else if (p == 1.0) {
        acc += xc;
      } else {
        acc += pow(xc, p);
      }
#endif
    }
  }
#if ${AVG}
  let total = rowSumOrMax(lid, acc, false);
#else
  let total = rowSumOrMax(lid, acc, isMax);
#endif
  if (lane == 0u && valid) {
#if ${AVG}
    out[r] = total / f32(len);
#else
    let m = total / f32(len);
    if (isMax) {
      out[r] = total;
    } else if (p == 1.0) {
      out[r] = m;
    } else {
      out[r] = pow(m, 1.0 / p);
    }
#endif
  }
}
