// Grouped convolution with narrow groups (SENet154: 64 groups of 2..16 input and 4..32 output
// channels): y[n, co, oh, ow] = Σ_{j < IN_G, a, b} w[co, j, a, b] ·
// x[n, group(co)·IN_G + j, oh·SH − ph + a·DH, ow·SW − pw + b·DW] (0 outside the image).
//
// One thread computes OPT consecutive outputs of one row for COB output channels of one group.
// Per input channel of the group and kernel row it loads the SEG input values those outputs
// share into registers once and reuses them for all COB channels: COB·OPT·KW multiply-adds per
// SEG + COB·KW loads. A GEMM tile would leave most of its 64 rows idle (OUT_G = 4..32 useful).
// No workgroup memory: neighbouring threads take neighbouring strips and rows of the same
// channel block, so they read the same weights and overlapping input rows from cache, with no
// barrier (each one a coroutine switch on CPU adapters).
//
// TRANSPOSE: the stride-1 input gradient, this kernel run on dy: the sources are dy's channels,
// the outputs x's, and the weight [Cdy, OUT_G, KH, KW] is read transposed within the group and
// rotated by 180° (padding (k − 1)·d − p; kernels/conv2d/grouped.ts).
// Fused epilogue (forward only): the conv_epilogue snippet, channel co.

const KH = ${KH}i;
const KW = ${KW}i;
const SH = ${SH}i;
const SW = ${SW}i;
const DH = ${DH}i;
const DW = ${DW}i;
const OPT = ${OPT}i;
const COB = ${COB}i;
const SEG = (OPT - 1i) * SW + (KW - 1i) * DW + 1i;

// The weight of output channel `co` (global), source channel `ci` (global; j-th of its group),
// output channel `c` of the group, tap (a, b).
fn weightIndex(co: u32, ci: u32, j: u32, c: u32, a: i32, b: i32) -> u32 {
#if ${TRANSPOSE}
  return (ci * params.outG + c) * u32(KH * KW) + u32((KH - 1i - a) * KW + (KW - 1i - b));
#else
  return (co * params.inG + j) * u32(KH * KW) + u32(a * KW + b);
#endif
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = globalIndex(gid, nwg);
  if (i >= params.total) { return; }
  let strip = i % params.strips;
  var t = i / params.strips;
  let oh = t % params.OH;
  t = t / params.OH;
  let block = t % params.blocks; // n · groups · blocks + group · blocks + block
  t = t / params.blocks;
  let groups = params.C / params.outG;
  let grp = t % groups;
  let n = t / groups;
  let cg0 = block * u32(COB); // first output channel of the thread within its group
  let co0 = grp * params.outG + cg0;
  let ow0 = strip * u32(OPT);
  let ih0 = i32(oh) * SH - params.ph;
  let iw0 = i32(ow0) * SW - params.pw;
  let H = i32(params.H);
  let W = i32(params.W);
  var acc: array<f32, ${ACC}>;
  for (var j = 0u; j < params.inG; j++) {
    let ci = grp * params.inG + j;
    let xbase = (n * params.Cin + ci) * params.H * params.W;
    for (var a = 0i; a < KH; a++) {
      let ih = ih0 + a * DH;
      if (ih < 0 || ih >= H) { continue; }
      let row = xbase + u32(ih) * params.W;
      var seg: array<f32, SEG>;
      for (var s = 0i; s < SEG; s++) {
        let iw = iw0 + s;
        let ok = iw >= 0 && iw < W;
        seg[s] = select(0.0, X[select(row, row + u32(iw), ok)], ok);
      }
      for (var b = 0i; b < KW; b++) {
        for (var c = 0i; c < COB; c++) {
          let wv = Wt[weightIndex(co0 + u32(c), ci, j, cg0 + u32(c), a, b)];
          for (var e = 0i; e < OPT; e++) {
            acc[c * OPT + e] = fma(wv, seg[e * SW + b * DW], acc[c * OPT + e]);
          }
        }
      }
    }
  }
  for (var c = 0u; c < u32(COB); c++) {
    let co = co0 + c;
    let obase = ((n * params.C + co) * params.OH + oh) * params.OW;
    for (var e = 0u; e < u32(OPT); e++) {
      if (ow0 + e < params.OW) {
        let index = obase + ow0 + e;
        Y[index] = epilogue(co, index, acc[c * u32(OPT) + e]);
      }
    }
  }
}
