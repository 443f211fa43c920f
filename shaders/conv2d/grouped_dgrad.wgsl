// Input gradient of the grouped convolution (grouped.wgsl) for strides above 1 (stride 1 runs
// grouped.wgsl with TRANSPOSE):
//   dx[n, ci, ih, iw] = Σ_{co in group(ci)} Σ_{a,b} w[co, ci − group·IN_G, a, b] · dy[n, co, oh, ow]
// over the taps with ih + ph − a·DH = oh·SH and iw + pw − b·DW = ow·SW inside dy.
// One thread computes OPT dx values of one row that share a stride phase, iw = iw0 + e·SW
// (e < OPT), for COB input channels of one group: a tap column b meets all OPT columns or none,
// and meets consecutive dy columns, which are loaded into registers once and reused for the COB
// channels. Tap rows are skipped by phase the same way (depthwise_dgrad.wgsl), so no multiply
// is spent on the zeros of the strided transposed convolution. The (row, column) phase varies
// slowest over the whole grid, so neighbouring threads (the SIMD lanes of a CPU adapter) take
// the same taps: with the phase varying within a row, every lane group ran every tap masked
// (4x the work at stride 2).

const KH = ${KH}i;
const KW = ${KW}i;
const SH = ${SH}i;
const SW = ${SW}i;
const DH = ${DH}i;
const DW = ${DW}i;
const OPT = ${OPT}i;
const COB = ${COB}i;
/** Added to a column before dividing by SW so that the dividend is never negative. */
const LIFT = ((KW - 1i) * DW / SW + 1i) * SW;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = globalIndex(gid, nwg);
  if (i >= params.total) { return; }
  let strip = i % params.strips; // blocks of OPT columns of one column phase
  var t = i / params.strips;
  let prow = t % params.rows; // rows of one row phase
  t = t / params.rows;
  let block = t % params.blocks; // blocks of COB input channels per group
  t = t / params.blocks;
  let groups = params.Cin / params.inG;
  let grp = t % groups;
  t = t / groups;
  let n = t % params.N;
  let phase = t / params.N;
  let ih = prow * u32(SH) + phase / u32(SW);
  if (ih >= params.H) { return; }
  let iw0 = i32(strip) * OPT * SW + i32(phase % u32(SW));
  let cj0 = block * u32(COB); // first input channel of the thread within its group
  let ci0 = grp * params.inG + cj0;
  let OH = i32(params.OH);
  let OW = i32(params.OW);
  var acc: array<f32, ${ACC}>;
  for (var j = 0u; j < params.outG; j++) {
    let co = grp * params.outG + j;
    let ybase = (n * params.C + co) * params.OH * params.OW;
    let wbase = (co * params.inG + cj0) * u32(KH * KW);
    for (var a = 0i; a < KH; a++) {
      let r = i32(ih) + params.ph - a * DH;
      if (r < 0 || r % SH != 0 || r / SH >= OH) { continue; }
      let row = ybase + u32(r / SH) * params.OW;
      for (var b = 0i; b < KW; b++) {
        let lifted = iw0 + params.pw - b * DW + LIFT;
        if (lifted % SW != 0) { continue; }
        let c0 = lifted / SW - LIFT / SW;
        var seg: array<f32, OPT>;
        for (var e = 0i; e < OPT; e++) {
          let c = c0 + e;
          let ok = c >= 0 && c < OW;
          seg[e] = select(0.0, DY[select(row, row + u32(c), ok)], ok);
        }
        for (var c = 0i; c < COB; c++) {
          let wv = Wt[wbase + u32(c * KH * KW + a * KW + b)];
          for (var e = 0i; e < OPT; e++) {
            acc[c * OPT + e] = fma(wv, seg[e], acc[c * OPT + e]);
          }
        }
      }
    }
  }
  for (var c = 0i; c < COB; c++) {
    let obase = ((n * params.Cin + ci0 + u32(c)) * params.H + ih) * params.W;
    for (var e = 0i; e < OPT; e++) {
      let iw = iw0 + e * SW;
      if (iw < i32(params.W)) {
        DX[obase + u32(iw)] = acc[c * OPT + e];
      }
    }
  }
}
