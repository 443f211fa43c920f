// Input gradient of the depthwise convolution (depthwise.wgsl) for strides above 1 or channel
// multipliers above 1 (the stride-1, multiplier-1 case runs depthwise.wgsl with FLIP):
//   dx[n, ci, ih, iw] = Σ_{j < MULT} Σ_{a,b} w[co, 0, a, b] · dy[n, co, oh, ow],  co = ci·MULT + j,
// over the taps with ih + ph − a·DH = oh·SH and iw + pw − b·DW = ow·SW inside dy.
// One thread computes OPT consecutive dx values of one row; the tap rows are skipped by their
// phase, the columns selected (no atomics, no zeros of a strided transposed convolution read).

const KH = ${KH}i;
const KW = ${KW}i;
const SH = ${SH}i;
const SW = ${SW}i;
const DH = ${DH}i;
const DW = ${DW}i;
const OPT = ${OPT}i;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = globalIndex(gid, nwg);
  if (i >= params.total) { return; }
  let strip = i % params.strips;
  let t = i / params.strips;
  let ih = t % params.H;
  let plane = t / params.H; // n * Cin + ci
  let ci = plane % params.Cin;
  let n = plane / params.Cin;
  let iw0 = i32(strip) * OPT;
  let OH = i32(params.OH);
  let OW = i32(params.OW);
  var acc: array<f32, ${OPT}>;
  for (var j = 0u; j < params.mult; j++) {
    let co = ci * params.mult + j;
    let ybase = (n * params.C + co) * params.OH * params.OW;
    let wbase = co * u32(KH * KW);
    for (var a = 0i; a < KH; a++) {
      let r = i32(ih) + params.ph - a * DH;
      if (r < 0 || r % SH != 0 || r / SH >= OH) { continue; }
      let row = ybase + u32(r / SH) * params.OW;
      for (var b = 0i; b < KW; b++) {
        let wv = Wt[wbase + u32(a * KW + b)];
        for (var e = 0i; e < OPT; e++) {
          let c = iw0 + e + params.pw - b * DW;
          let ok = c >= 0 && c % SW == 0 && c / SW < OW;
          acc[e] = fma(wv, select(0.0, DY[select(row, row + u32(c / SW), ok)], ok), acc[e]);
        }
      }
    }
  }
  let obase = plane * params.H * params.W + ih * params.W;
  for (var e = 0u; e < u32(OPT); e++) {
    if (u32(iw0) + e < params.W) {
      DX[obase + u32(iw0) + e] = acc[e];
    }
  }
}
