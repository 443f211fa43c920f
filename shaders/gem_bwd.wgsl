// Backward of gem.wgsl, one pass per row (same T threads per row layout):
//   AVG: dx_i = g / len.
//   GeM, finite p: recomputes m = mean xc^p (and S = mean xc^p ln xc for dp), e = m^(1/p), then
//     dx_i = g * e / (m * len) * xc_i^(p-1) where x_i >= eps (the clamp passes the gradient), else 0;
//     dpRow = g * e * (S / (p m) - ln(m) / p^2)  (summed over rows by the caller).
//   GeM, p = inf: the gradient goes to the row's first maximum (if it is >= eps); dp = 0.
// WRITE_DX / WRITE_DP select the outputs (dp alone when x needs no gradient).

struct Params { rows: u32, len: u32, eps: f32, p: f32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> g: array<f32>;
#if ${AVG}
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;
#else
@group(0) @binding(2) var<storage, read> x: array<f32>;
#if ${P_BUFFER}
@group(0) @binding(3) var<storage, read> pbuf: array<f32>;
#endif
#if ${WRITE_DX}
@group(0) @binding(${B_DX}) var<storage, read_write> dx: array<f32>;
#endif
#if ${WRITE_DP}
@group(0) @binding(${B_DP}) var<storage, read_write> dpRow: array<f32>;
#endif
#endif

const T = ${T}u;
const WG = ${WG}u;

#if ${AVG}
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let r = (wid.x + wid.y * nwg.x) * (WG / T) + lid / T;
  if (r >= params.rows) { return; }
  let v = g[r] / f32(params.len);
  for (var i = lid % T; i < params.len; i += T) {
    dx[r * params.len + i] = v;
  }
}
#else
var<workgroup> red0: array<f32, WG>;
var<workgroup> red1: array<f32, WG>;
var<workgroup> redI: array<u32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let r = (wid.x + wid.y * nwg.x) * (WG / T) + lid / T;
  let lane = lid % T;
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
  red0[lid] = a0;
  red1[lid] = a1;
  redI[lid] = ai;
  workgroupBarrier();
  for (var k = T / 2u; k > 0u; k = k >> 1u) {
    if (lane < k) {
      if (isMax) {
        let v = red0[lid + k];
        let j = redI[lid + k];
        if (v > red0[lid] || (v == red0[lid] && j < redI[lid])) {
          red0[lid] = v;
          redI[lid] = j;
        }
      } else {
        red0[lid] += red0[lid + k];
        red1[lid] += red1[lid + k];
      }
    }
    workgroupBarrier();
  }
  if (!valid) { return; }
  let head = lid - lane;
  let gr = g[r];
  let m = red0[head] / f32(len);
  let e = select(pow(m, 1.0 / p), m, p == 1.0);
#if ${WRITE_DX}
  let coef = gr * e / (m * f32(len));
  let arg = redI[head];
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
    let s = red1[head] / f32(len);
    dpRow[r] = select(gr * e * (s / (p * m) - log(m) / (p * p)), 0.0, isMax);
  }
#endif
}
#endif
