// Backward of pooling/gem, one pass per row (same T threads per row layout):
//   AVG: dx_i = g / len.
//   GeM, finite p: recomputes m = mean xc^p (and S = mean xc^p ln xc for dp), e = m^(1/p), then
//     dx_i = g * e / (m * len) * xc_i^(p-1) where x_i >= eps (the clamp passes the gradient), else 0;
//     dpRow = g * e * (S / (p m) - ln(m) / p^2)  (summed over rows by the caller).
//   GeM, p = inf: the gradient goes to the row's first maximum (if it is >= eps); dp = 0.
// WRITE_DX / WRITE_DP select the outputs (dp alone when x needs no gradient).

#if ${AVG}
@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let r = rowIndex(wid, nwg, lid);
  if (r >= params.rows) { return; }
  let v = g[r] / f32(params.len);
  for (var i = rowLane(lid); i < params.len; i += T) {
    dx[r * params.len + i] = v;
  }
}
#else
@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let r = rowIndex(wid, nwg, lid);
  let lane = rowLane(lid);
  let valid = r < params.rows;
  let len = params.len;
  let eps = params.eps;
#if ${P_BUFFER}
  let p = pbuf[0];
#else
  let p = params.p;
#endif
  let isMax = p > 3.0e38;
  var a0 = -1.0;
  var a1 = 0.0;
  var ai = 0xffffffffu;
  if (!isMax) { a0 = 0.0; }
  if (valid) {
    for (var i = lane; i < len; i += T) {
      let xc = max(x[r * len + i], eps);
      if (isMax) {
        if (xc > a0) { a0 = xc; ai = i; }
      } else {
        let xp = select(pow(xc, p), xc, p == 1.0);
        a0 += xp;
#if ${WRITE_DP}
        a1 += xp * log(xc);
#endif
      }
    }
  }
  let row = rowSumsOrArgmax(lid, a0, a1, ai, isMax);
  if (!valid) { return; }
  let gr = g[r];
  let m = row.a0 / f32(len);
  let e = select(pow(m, 1.0 / p), m, p == 1.0);
#if ${WRITE_DX}
  let coef = gr * e / (m * f32(len));
  let arg = row.index;
  for (var i = lane; i < len; i += T) {
    let v = x[r * len + i];
    var d = 0.0;
    if (v >= eps) {
      if (isMax) {
        d = select(0.0, gr, i == arg);
      } else {
        d = coef * select(pow(v, p - 1.0), 1.0, p == 1.0);
      }
    }
    dx[r * len + i] = d;
  }
#endif
#if ${WRITE_DP}
  if (lane == 0u) {
    let s = row.a1 / f32(len);
    dpRow[r] = select(gr * e * (s / (p * m) - log(m) / (p * p)), 0.0, isMax);
  }
#endif
}
#endif
