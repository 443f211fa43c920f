// Row pooling of x [rows, len] (rows = N*C, len = H*W) -> out [rows]:
//   GeM: out = (mean_i max(x_i, eps)^p)^(1/p); p = 1 is the mean of the clamped values and
//   p = +inf (any p above 3e38) their maximum. p is read on the GPU (P_BUFFER: element 0 of a
//   storage buffer, so a learnable p needs no readback; otherwise the uniform).
//   AVG: plain mean of x (global average pooling, no clamp).
// T threads per row (a power of two <= 256), WG / T rows per workgroup: neighbouring threads
// read neighbouring values of a row (coalesced), then a tree over the row's T partials.

struct Params { rows: u32, len: u32, eps: f32, p: f32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
#if ${P_BUFFER}
@group(0) @binding(2) var<storage, read> pbuf: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
#else
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
#endif

const T = ${T}u;
const WG = ${WG}u;
var<workgroup> red: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let r = (wid.x + wid.y * nwg.x) * (WG / T) + lid / T;
  let lane = lid % T;
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
  red[lid] = acc;
  workgroupBarrier();
  for (var k = T / 2u; k > 0u; k = k >> 1u) {
    if (lane < k) {
#if ${AVG}
      red[lid] += red[lid + k];
#else
      red[lid] = select(red[lid] + red[lid + k], max(red[lid], red[lid + k]), isMax);
#endif
    }
    workgroupBarrier();
  }
  if (lane == 0u && valid) {
    let total = red[lid];
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
