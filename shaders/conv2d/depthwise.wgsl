// Depthwise convolution (groups = Cin, one input channel per group, MULT = Cout / Cin output
// channels per input channel): y[n, co, oh, ow] = Σ_{a,b} w[co, 0, a, b] ·
// x[n, co / MULT, oh·SH − ph + a·DH, ow·SW − pw + b·DW] (0 outside the image).
//
// One thread computes OPT consecutive outputs of one row of one channel. Per kernel row it loads
// the SEG input values those outputs share into registers once (SEG = (OPT − 1)·SW + (KW − 1)·DW + 1:
// 6 for 3x3/1 instead of 12 separate loads), the KW weights once, and does OPT·KW multiply-adds
// from registers. A GEMM tile would waste all but one of its rows here (K = kh·kw per channel).
// The kernel geometry and strides are compile-time constants: the loops unroll and the register
// indices are constants.
//
// FLIP: the weight is read rotated by 180° (the stride-1 input gradient is this kernel run on dy
// with padding (k − 1)·d − p; kernels/conv2d/depthwise_dgrad.ts).
// Fused epilogue (forward only): the conv_epilogue snippet, channel co.

const KH = ${KH}i;
const KW = ${KW}i;
const SH = ${SH}i;
const SW = ${SW}i;
const DH = ${DH}i;
const DW = ${DW}i;
const OPT = ${OPT}i;
const SEG = (OPT - 1i) * SW + (KW - 1i) * DW + 1i;

fn tap(a: i32, b: i32) -> u32 {
#if ${FLIP}
  return u32((KH - 1i - a) * KW + (KW - 1i - b));
#else
  return u32(a * KW + b);
#endif
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = globalIndex(gid, nwg);
  if (i >= params.total) { return; }
  let strip = i % params.strips;
  let t = i / params.strips;
  let oh = t % params.OH;
  let plane = t / params.OH; // n * C + co
  let co = plane % params.C;
  let n = plane / params.C;
  let xbase = (n * params.Cin + co / params.mult) * params.H * params.W;
  let wbase = co * u32(KH * KW);
  let ow0 = strip * u32(OPT);
  let ih0 = i32(oh) * SH - params.ph;
  let iw0 = i32(ow0) * SW - params.pw;
  let H = i32(params.H);
  let W = i32(params.W);
  var acc: array<f32, ${OPT}>;
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
      let wv = Wt[wbase + tap(a, b)];
      for (var e = 0i; e < OPT; e++) {
        acc[e] = fma(wv, seg[e * SW + b * DW], acc[e]);
      }
    }
  }
  let obase = plane * params.OH * params.OW + oh * params.OW;
  for (var e = 0u; e < u32(OPT); e++) {
    if (ow0 + e < params.OW) {
      let index = obase + ow0 + e;
      Y[index] = epilogue(co, index, acc[e]);
    }
  }
}
