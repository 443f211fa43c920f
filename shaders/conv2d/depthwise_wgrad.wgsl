// Weight gradient of the depthwise convolution (depthwise.wgsl), and of grouped convolutions
// with few channels per group: per output channel co, channel j of its group (CIG of them;
// 1 when depthwise) and kernel row a, the KW sums
//   dw[co, j, a, b] = Σ_{n, oh, ow} dy[n, co, oh, ow] · x[n, (co / COG)·CIG + j, oh·SH − ph + a·DH, ow·SW − pw + b·DW]
// (COG = Cout / groups: the channel multiplier when depthwise).
// The N·OH·OW positions are dealt to CHUNKS threads per (co, j, a), interleaved (thread c takes
// positions c, c + CHUNKS, ...): neighbouring threads read neighbouring pixels, and each thread
// loads dy once per position and accumulates its KW products in registers. Each thread writes
// its partial sums to partial[c, co, j, a, :]; the host sums over c (one reduce pass). No atomics,
// no barriers (each is a coroutine switch on CPU adapters), deterministic.

const KH = ${KH}i;
const KW = ${KW}i;
const SH = ${SH}i;
const SW = ${SW}i;
const DH = ${DH}i;
const DW = ${DW}i;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = globalIndex(gid, nwg);
  if (i >= params.total) { return; }
  let c = i % params.chunks;
  let row = i / params.chunks; // (co * CIG + j) * KH + a
  let coj = row / u32(KH);
  let a = i32(row % u32(KH));
  let co = coj / params.cig;
  let P = params.N * params.OH * params.OW;
  let ci = (co / params.cog) * params.cig + coj % params.cig;
  let H = i32(params.H);
  let W = i32(params.W);
  let planeY = params.OH * params.OW;
  var acc: array<f32, ${KW}>;
  for (var p = c; p < P; p += params.chunks) {
    let n = p / planeY;
    let q = p - n * planeY;
    let oh = q / params.OW;
    let ow = q - oh * params.OW;
    let ih = i32(oh) * SH - params.ph + a * DH;
    let rowOk = ih >= 0 && ih < H;
    let g = select(0.0, DY[(n * params.C + co) * planeY + q], rowOk);
    let xrow = (n * params.Cin + ci) * params.H * params.W + u32(select(0i, ih, rowOk)) * params.W;
    let iw0 = i32(ow) * SW - params.pw;
    for (var b = 0i; b < KW; b++) {
      let iw = iw0 + b * DW;
      let ok = iw >= 0 && iw < W;
      acc[b] = fma(g, select(0.0, X[select(xrow, xrow + u32(iw), ok)], ok), acc[b]);
    }
  }
  let out = c * params.C * params.cig * u32(KH * KW) + row * u32(KW);
  for (var b = 0u; b < u32(KW); b++) {
    GW[out + b] = acc[b];
  }
}
