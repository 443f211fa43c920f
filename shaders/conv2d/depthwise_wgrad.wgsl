// Weight gradient of the depthwise convolution (depthwise.wgsl): per output channel co and
// kernel row a, the KW sums
//   dw[co, 0, a, b] = Σ_{n, oh, ow} dy[n, co, oh, ow] · x[n, co / MULT, oh·SH − ph + a·DH, ow·SW − pw + b·DW]
// over the CHUNK-th slice of the N·OH·OW positions. One workgroup per (co, a, chunk): each
// thread walks positions WORKGROUP_SIZE apart (neighbouring threads read neighbouring pixels),
// loads dy once per position and accumulates KW products in registers; the workgroup then sums
// its threads by a tree in workgroup memory (no atomics: deterministic). With several chunks the
// partial sums [chunk, Cout·KH·KW] are added by the host's reduce.

const KH = ${KH}i;
const KW = ${KW}i;
const SH = ${SH}i;
const SW = ${SW}i;
const DH = ${DH}i;
const DW = ${DW}i;

var<workgroup> red: array<f32, ${KW} * WORKGROUP_SIZE>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let co = wid.x / u32(KH);
  let a = i32(wid.x % u32(KH));
  let chunk = wid.y;
  let P = params.N * params.OH * params.OW;
  let begin = chunk * params.perChunk;
  let end = min(begin + params.perChunk, P);
  let ci = co / params.mult;
  let H = i32(params.H);
  let W = i32(params.W);
  let planeY = params.OH * params.OW;
  var acc: array<f32, ${KW}>;
  for (var p = begin + lid; p < end; p += WORKGROUP_SIZE) {
    let n = p / planeY;
    let q = p - n * planeY;
    let oh = q / params.OW;
    let ow = q - oh * params.OW;
    let ih = i32(oh) * SH - params.ph + a * DH;
    if (ih < 0 || ih >= H) { continue; }
    let g = DY[(n * params.C + co) * planeY + q];
    let row = (n * params.Cin + ci) * params.H * params.W + u32(ih) * params.W;
    let iw0 = i32(ow) * SW - params.pw;
    for (var b = 0i; b < KW; b++) {
      let iw = iw0 + b * DW;
      let ok = iw >= 0 && iw < W;
      acc[b] = fma(g, select(0.0, X[select(row, row + u32(iw), ok)], ok), acc[b]);
    }
  }
  for (var b = 0u; b < u32(KW); b++) {
    red[b * WORKGROUP_SIZE + lid] = acc[b];
  }
  for (var s = WORKGROUP_SIZE / 2u; s > 0u; s >>= 1u) {
    workgroupBarrier();
    if (lid < s) {
      for (var b = 0u; b < u32(KW); b++) {
        red[b * WORKGROUP_SIZE + lid] += red[b * WORKGROUP_SIZE + lid + s];
      }
    }
  }
  workgroupBarrier();
  if (lid < u32(KW)) {
    GW[chunk * params.C * u32(KH * KW) + wid.x * u32(KW) + lid] = red[lid * WORKGROUP_SIZE];
  }
}
