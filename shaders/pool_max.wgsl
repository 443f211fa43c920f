// Max pooling over [planes = N*C, H, W] -> [planes, OH, OW], one thread per output value.
// Grid: x = blocks of 256 outputs within a plane, y (+ z) = plane, so the only divisions are of
// in-plane indices (< 2^22) by uniform divisors, done exactly with a float reciprocal and one
// correction step (CPU Vulkan scalarizes integer vector division; GPUs emulate it too).
// Padding counts as -inf (PyTorch). The first maximum in row-major window order wins (a NaN
// propagates); with SAVE_INDEX its in-plane index ih * W + iw is stored (i32) for backward.

struct Params {
  planes: u32, h: u32, w: u32, oh: u32,
  ow: u32, kh: u32, kw: u32, sh: u32,
  sw: u32, ph: u32, pw: u32, dh: u32,
  dw: u32, invOw: f32, pad0: u32, pad1: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
#if ${SAVE_INDEX}
@group(0) @binding(3) var<storage, read_write> index: array<i32>;
#endif

// (a / d, a % d) for a < 2^22, inv = 1 / d in f32.
fn divmod(a: u32, d: u32, inv: f32) -> vec2u {
  var q = u32(f32(a) * inv);
  var r = i32(a) - i32(q * d);
  if (r < 0) { q -= 1u; r += i32(d); } else if (r >= i32(d)) { q += 1u; r -= i32(d); }
  return vec2u(q, u32(r));
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let plane = wid.y + wid.z * nwg.y;
  let j = wid.x * 256u + lid;
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
      let v = x[base + u32(k)];
      if (v > best || arg < 0 || (v != v && best == best)) {
        best = v;
        arg = k;
      }
    }
  }
  out[o] = best;
#if ${SAVE_INDEX}
  index[o] = arg;
#endif
}
