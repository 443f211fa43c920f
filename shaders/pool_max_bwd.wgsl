// Max pooling backward without atomics: one thread per INPUT value gathers the gradients of
// the output windows that can contain it and whose saved argmax is this value.

struct Params {
  total: u32, h: u32, w: u32, oh: u32,
  ow: u32, kh: u32, kw: u32, sh: u32,
  sw: u32, ph: u32, pw: u32, dh: u32,
  dw: u32, pad0: u32, pad1: u32, pad2: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read> index: array<i32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

// Output positions o whose window o*s - p + [0, (K-1)*d] covers input i: o in [lo, hi].
// (With dilation not every such window has a tap at i; the argmax check settles it.)
fn windowRange(i: i32, s: i32, p: i32, k: i32, d: i32, n: i32) -> vec2i {
  let num = i + p - (k - 1) * d;
  let lo = select(0, (num + s - 1) / s, num > 0);
  let hi = min(n - 1, (i + p) / s);
  return vec2i(lo, hi);
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= params.total) { return; }
  let iw = i32(i % params.w);
  let t = i / params.w;
  let ih = i32(t % params.h);
  let plane = t / params.h;
  let k = ih * i32(params.w) + iw;
  let rh = windowRange(ih, i32(params.sh), i32(params.ph), i32(params.kh), i32(params.dh), i32(params.oh));
  let rw = windowRange(iw, i32(params.sw), i32(params.pw), i32(params.kw), i32(params.dw), i32(params.ow));
  let base = plane * params.oh * params.ow;
  var acc = 0.0;
  for (var oh = rh.x; oh <= rh.y; oh++) {
    for (var ow = rw.x; ow <= rw.y; ow++) {
      let o = base + u32(oh) * params.ow + u32(ow);
      if (index[o] == k) { acc += dy[o]; }
    }
  }
  dx[i] = acc;
}
