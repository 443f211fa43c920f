// Input gradient of the depthwise convolution (depthwise.wgsl) for strides above 1 or channel
// multipliers above 1 (the stride-1, multiplier-1 case runs depthwise.wgsl with FLIP):
//   dx[n, ci, ih, iw] = Σ_{j < MULT} Σ_{a,b} w[co, 0, a, b] · dy[n, co, oh, ow],  co = ci·MULT + j,
// over the taps with ih + ph − a·DH = oh·SH and iw + pw − b·DW = ow·SW inside dy.
// One thread computes OPT dx values of one row that share a stride phase, iw = iw0 + e·SW
// (e < OPT): a tap column b then meets all of them or none (whether iw0 + pw − b·DW is a
// multiple of SW), and meets consecutive dy columns. Tap rows are skipped by their phase the
// same way, so no multiply is spent on the zeros of the strided transposed convolution.
// Threads of a row: SW phases of blocks of OPT·SW columns, the phase varying slowest so that
// neighbouring threads (the SIMD lanes of a CPU adapter) take the same branches.

const KH = ${KH}i;
const KW = ${KW}i;
const SH = ${SH}i;
const SW = ${SW}i;
const DH = ${DH}i;
const DW = ${DW}i;
const OPT = ${OPT}i;
/** Added to a column before dividing by SW so that the dividend is never negative. */
const LIFT = ((KW - 1i) * DW / SW + 1i) * SW;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = globalIndex(gid, nwg);
  if (i >= params.total) { return; }
  let slot = i % params.strips; // strips = SW · blocks per row
  let t = i / params.strips;
  let ih = t % params.H;
  let plane = t / params.H; // n * Cin + ci
  let ci = plane % params.Cin;
  let n = plane / params.Cin;
  let blocks = params.strips / u32(SW);
  let iw0 = i32(slot % blocks) * OPT * SW + i32(slot / blocks);
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
        let lifted = iw0 + params.pw - b * DW + LIFT;
        if (lifted % SW != 0) { continue; }
        let c0 = lifted / SW - LIFT / SW;
        let wv = Wt[wbase + u32(a * KW + b)];
        for (var e = 0i; e < OPT; e++) {
          let c = c0 + e;
          let ok = c >= 0 && c < OW;
          acc[e] = fma(wv, select(0.0, DY[select(row, row + u32(c), ok)], ok), acc[e]);
        }
      }
    }
  }
  let obase = plane * params.H * params.W + ih * params.W;
  for (var e = 0i; e < OPT; e++) {
    let iw = iw0 + e * SW;
    if (iw < i32(params.W)) {
      DX[obase + u32(iw)] = acc[e];
    }
  }
}
