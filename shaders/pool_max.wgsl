// Max pooling over [N*C planes, H, W] -> [planes, OH, OW], one thread per output value.
// Padding counts as -inf (PyTorch). The first maximum in row-major window order wins; with
// SAVE_INDEX its in-plane index ih * W + iw is stored (i32) for the backward pass.

struct Params {
  total: u32, h: u32, w: u32, oh: u32,
  ow: u32, kh: u32, kw: u32, sh: u32,
  sw: u32, ph: u32, pw: u32, dh: u32,
  dw: u32, pad0: u32, pad1: u32, pad2: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
#if ${SAVE_INDEX}
@group(0) @binding(3) var<storage, read_write> index: array<i32>;
#endif

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let o = gid.x + gid.y * nwg.x * 256u;
  if (o >= params.total) { return; }
  let ow = o % params.ow;
  let t = o / params.ow;
  let oh = t % params.oh;
  let plane = t / params.oh;
  let base = plane * params.h * params.w;
  let h0 = i32(oh * params.sh) - i32(params.ph);
  let w0 = i32(ow * params.sw) - i32(params.pw);
  var bits = 0xff800000u;
  var best = bitcast<f32>(bits);
  var arg = -1;
  for (var i = 0u; i < params.kh; i++) {
    let ih = h0 + i32(i * params.dh);
    if (ih < 0 || ih >= i32(params.h)) { continue; }
    for (var j = 0u; j < params.kw; j++) {
      let iw = w0 + i32(j * params.dw);
      if (iw < 0 || iw >= i32(params.w)) { continue; }
      let k = ih * i32(params.w) + iw;
      let v = x[base + u32(k)];
      // v != v: a NaN propagates (PyTorch)
      if (v > best || arg < 0 || v != v) {
        best = v;
        arg = k;
        if (v != v) { break; }
      }
    }
  }
  out[o] = best;
#if ${SAVE_INDEX}
  index[o] = arg;
#endif
}
