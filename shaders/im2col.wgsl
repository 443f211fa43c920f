// Convolution patches for the GEMM formulation of conv2d (NCHW, one image range at a time).
// IM2COL: cols[n, (c*kh + i)*kw + j, oy*OW + ox] = x[n, c, oy*s - p + i*d, ox*s - p + j*d] (0 outside)
// COL2IM: dx[n, c, y, x] = sum of cols entries that read (y, x): each output element gathers
//         over the kernel offsets that reach it, so no atomics are needed.
struct Params {
  C: u32, H: u32, W: u32, OH: u32,
  OW: u32, KH: u32, KW: u32, strideY: u32,
  strideX: u32, padY: u32, padX: u32, dilY: u32,
  dilX: u32, total: u32, pad0: u32, pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let e = gid.x + gid.y * nwg.x * 256u;
  if (e >= p.total) { return; }
  let ohw = p.OH * p.OW;
  let K = p.C * p.KH * p.KW;
#if ${COL2IM}
  // e indexes dx [n, c, y, x]
  let x = e % p.W;
  let y = (e / p.W) % p.H;
  let c = (e / (p.W * p.H)) % p.C;
  let n = e / (p.W * p.H * p.C);
  var acc = 0.0;
  for (var i = 0u; i < p.KH; i++) {
    let ty = i32(y) + i32(p.padY) - i32(i * p.dilY);
    if (ty < 0 || ty % i32(p.strideY) != 0) { continue; }
    let oy = u32(ty) / p.strideY;
    if (oy >= p.OH) { continue; }
    for (var j = 0u; j < p.KW; j++) {
      let tx = i32(x) + i32(p.padX) - i32(j * p.dilX);
      if (tx < 0 || tx % i32(p.strideX) != 0) { continue; }
      let ox = u32(tx) / p.strideX;
      if (ox >= p.OW) { continue; }
      acc += src[(n * K + (c * p.KH + i) * p.KW + j) * ohw + oy * p.OW + ox];
    }
  }
  dst[e] = acc;
#else
  // e indexes cols [n, k, oy*OW + ox]
  let pos = e % ohw;
  let k = (e / ohw) % K;
  let n = e / (ohw * K);
  let j = k % p.KW;
  let i = (k / p.KW) % p.KH;
  let c = k / (p.KW * p.KH);
  let oy = pos / p.OW;
  let ox = pos % p.OW;
  let iy = i32(oy * p.strideY + i * p.dilY) - i32(p.padY);
  let ix = i32(ox * p.strideX + j * p.dilX) - i32(p.padX);
  var v = 0.0;
  if (iy >= 0 && ix >= 0 && u32(iy) < p.H && u32(ix) < p.W) {
    v = src[((n * p.C + c) * p.H + u32(iy)) * p.W + u32(ix)];
  }
  dst[e] = v;
#endif
}
