// Max pooling backward without atomics, gathered by blocks of inputs. The input is cut into
// stride-sized blocks: block (bh, bw) holds rows bh*sh - ph + [0, sh) and columns
// bw*sw - pw + [0, sw), and only the TH x TW output windows (bh - t, bw - u), t < TH, u < TW,
// can contain its values (TH = floor(((kh-1)*dh) / sh) + 1). One thread per block loads those
// windows' saved argmax and gradient once (2 * TH * TW reads instead of that many per input
// value; 4 windows for ResNet's 3x3/2), then writes each of its sh*sw input gradients as the
// sum of the windows whose argmax is that value. Deterministic, no atomics.
// Grid: x = blocks of WORKGROUP_SIZE threads within a plane, y (+ z) = plane; in-plane
// coordinates come from an exact float-reciprocal division (divmod snippet).

const TH = ${TH};
const TW = ${TW};

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let plane = wid.y + wid.z * nwg.y;
  let j = wid.x * WORKGROUP_SIZE + lid;
  if (plane >= params.planes || j >= params.bh * params.bw) { return; }
  let q = divmod(j, params.bw, params.invBw);
  let bh = i32(q.x);
  let bw = i32(q.y);
  let obase = plane * params.oh * params.ow;
  var ci: array<i32, ${NC}>;
  var cd: array<f32, ${NC}>;
  for (var t = 0; t < TH; t++) {
    for (var u = 0; u < TW; u++) {
      let oh = bh - t;
      let ow = bw - u;
      var k = -1;
      var g = 0.0;
      if (oh >= 0 && oh < i32(params.oh) && ow >= 0 && ow < i32(params.ow)) {
        let o = obase + u32(oh) * params.ow + u32(ow);
        k = index[o];
        g = dy[o];
      }
      ci[t * TW + u] = k;
      cd[t * TW + u] = g;
    }
  }
  let ibase = plane * params.h * params.w;
  let ih0 = bh * i32(params.sh) - i32(params.ph);
  let iw0 = bw * i32(params.sw) - i32(params.pw);
  for (var r = 0; r < i32(params.sh); r++) {
    let ih = ih0 + r;
    if (ih < 0 || ih >= i32(params.h)) { continue; }
    for (var s = 0; s < i32(params.sw); s++) {
      let iw = iw0 + s;
      if (iw < 0 || iw >= i32(params.w)) { continue; }
      let k = ih * i32(params.w) + iw;
      var acc = 0.0;
      for (var c = 0; c < TH * TW; c++) {
        if (ci[c] == k) { acc += cd[c]; }
      }
      dx[ibase + u32(k)] = acc;
    }
  }
}
