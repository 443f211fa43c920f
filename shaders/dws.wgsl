// Distance-weighted sampling (Wu et al. 2017, as in MultiGrain's modules/margin.py), on the GPU.
//
// Both passes read the Gram matrix G = X Xᵀ of the [B, C] batch (from the matmul kernel) and
// recompute, for a pair (i, j):
//   d    = max(sqrt(max(G_ii + G_jj - 2 G_ij + [i == j], 0)), cutoff)        (cutoff = 0.5)
//   logw = (2 - C) log d - ((C - 3) / 2) log(max(1 - d² / 4, 1e-8))
//
// ROWMAX: one workgroup per row i writes rowmax[i] = max_j logw(i, j) (over the whole row:
//   the diagonal, same-instance and far pairs included, as the original takes the max over the
//   whole matrix).
// SAMPLE: one workgroup per (anchor, draw). M = max_i rowmax[i]. Entry j of anchor i's row has a
//   non-zero weight w = exp(logw - M) iff ids[j] != ids[i], d < nonzeroCutoff (1.4) and
//   logw - M > LOG_FLOOR (exp(logw - M) does not round to 0 in f32, as on CUDA). With
//   nv = number of such entries:
//     nv == 0: the whole row is zero -> every other-instance entry gets weight 1 (uniform);
//     nv >= n: n draws WITHOUT replacement = the n largest keys logw_j + Gumbel_j (Gumbel-top-k);
//     nv <  n: n draws WITH replacement: draw r takes argmax_j (logw_j + Gumbel_{j,r}).
//   The negatives go to negs[draw * T + offset + r], r < n, in the order they are drawn
//   (the order of sequential sampling without replacement).
// Noise: a counter-based hash (pcg4d, Jarzynski & Olano 2020, two rounds) of
//   (seed, step + draw, i * 65536 + j, r) -> 32 bits -> u uniform in (0, 1) -> E = -log(u)
//   (an Exp(1) variable; for u > 1/2 through a series for -log(1 - s), exact where log is not)
//   -> Gumbel = -log(E). Ties (probability ~0) go to the smaller index.

struct Params {
  B: u32,
  C: f32,
  A: u32,      // SAMPLE: number of anchors with n > 0
  draws: u32,
  seed: u32,
  step: u32,
  T: u32,
  cutoff: f32,          // 0.5
  nonzeroCutoff: f32,   // 1.4
  pad0: u32,
  pad1: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> gram: array<f32>;
#if ${ROWMAX}
@group(0) @binding(2) var<storage, read_write> rowmax: array<f32>;
#else
@group(0) @binding(2) var<storage, read> rowmax: array<f32>;
@group(0) @binding(3) var<storage, read> ids: array<i32>;
@group(0) @binding(4) var<storage, read> info: array<i32>;   // per anchor: (i, offset, n)
@group(0) @binding(5) var<storage, read_write> negs: array<i32>;
#if ${SEED_BUFFER}
@group(0) @binding(6) var<storage, read> seedBuf: array<u32>;
#endif
#endif

const WG = 64u;
const MAX_B = ${MAX_B}u;
const LOG_FLOOR = -103.97207708;  // ln(2^-150): below it exp rounds to 0 in f32 (IEEE, denormals kept)

var<workgroup> redv: array<f32, 64>;
var<workgroup> redi: array<u32, 64>;

fn negInf() -> f32 {
  var bits = 0xff800000u;
  return bitcast<f32>(bits);
}

// (distance, log weight) of pair (i, j)
fn pairLogw(i: u32, j: u32) -> vec2f {
  let B = params.B;
  var d2 = gram[i * B + i] + gram[j * B + j] - 2.0 * gram[i * B + j];
  if (i == j) { d2 += 1.0; }
  let d = max(sqrt(max(d2, 0.0)), params.cutoff);
  let C = params.C;
  let lw = (2.0 - C) * log(d) - ((C - 3.0) * 0.5) * log(max(1.0 - 0.25 * d * d, 1e-8));
  return vec2f(d, lw);
}

fn reduceMax(v: f32, lid: u32) -> f32 {
  redv[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { redv[lid] = max(redv[lid], redv[lid + s]); }
    workgroupBarrier();
  }
  let r = redv[0];
  workgroupBarrier();
  return r;
}

#if ${ROWMAX}
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = wid.x + wid.y * nwg.x;
  if (i >= params.B) { return; }
  var m = negInf();
  for (var j = lid; j < params.B; j += WG) { m = max(m, pairLogw(i, j).y); }
  m = reduceMax(m, lid);
  if (lid == 0u) { rowmax[i] = m; }
}
#else

var<workgroup> keys: array<f32, MAX_B>;
var<workgroup> cnt: array<vec2u, 64>;
var<workgroup> shared_nv: vec2u;

fn pcg4d(v0: vec4u) -> vec4u {
  var v = v0 * 1664525u + 1013904223u;
  v.x += v.y * v.w; v.y += v.z * v.x; v.z += v.x * v.y; v.w += v.y * v.z;
  v ^= v >> vec4u(16u);
  v.x += v.y * v.w; v.y += v.z * v.x; v.z += v.x * v.y; v.w += v.y * v.z;
  return v;
}

// A standard Gumbel variable for (seed, step, i, j, r).
fn gumbel(seed: u32, step: u32, i: u32, j: u32, r: u32) -> f32 {
  let h = pcg4d(pcg4d(vec4u(seed, step, i * 65536u + j, r))).x;
  // s uniform in (0, 1/2) with 24-bit relative precision; u = s or 1 - s by the top bit
  let s = (f32(h & 0x7fffffffu) + 0.5) * 2.3283064365386963e-10;  // 2^-32
  var e: f32;
  if ((h >> 31u) == 0u) {
    e = -log(s);                       // u = s < 1/2: log is accurate to a few ulp there
  } else {
    // u = 1 - s: e = -log(1 - s) = 2 atanh(z), z = s / (2 - s) <= 1/3
    let z = s / (2.0 - s);
    let z2 = z * z;
    e = 2.0 * z * (1.0 + z2 * (1.0 / 3.0 + z2 * (1.0 / 5.0 + z2 * (1.0 / 7.0 + z2 * (1.0 / 9.0 + z2 * (1.0 / 11.0 + z2 * (1.0 / 13.0 + z2 / 15.0)))))));
  }
  return -log(e);
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let w = wid.x + wid.y * nwg.x;
  if (w >= params.A * params.draws) { return; }
  let a = w % params.A;
  let draw = w / params.A;
  let i = u32(info[3u * a]);
  let offset = u32(info[3u * a + 1u]);
  let n = u32(info[3u * a + 2u]);
  let B = params.B;
#if ${SEED_BUFFER}
  let seed = seedBuf[0];
#else
  let seed = params.seed;
#endif
  let step = params.step + draw;
  let ninf = negInf();

  // global max of logw (over the whole matrix)
  var m = ninf;
  for (var r = lid; r < B; r += WG) { m = max(m, rowmax[r]); }
  m = reduceMax(m, lid);

  // base keys (logw - M, or -inf where w = 0) and counts (non-zero weights, other instances)
  let idi = ids[i];
  var c = vec2u(0u);
  for (var j = lid; j < B; j += WG) {
    let dl = pairLogw(i, j);
    let rel = dl.y - m;
    let other = ids[j] != idi;
    let valid = other && dl.x < params.nonzeroCutoff && rel > LOG_FLOOR;
    keys[j] = select(ninf, rel, valid);
    c += vec2u(select(0u, 1u, valid), select(0u, 1u, other));
  }
  cnt[lid] = c;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { cnt[lid] += cnt[lid + s]; }
    workgroupBarrier();
  }
  if (lid == 0u) { shared_nv = cnt[0]; }
  let counts = workgroupUniformLoad(&shared_nv);
  var nv = counts.x;
  if (nv == 0u) {
    // the whole row is zero: uniform over the other instances
    for (var j = lid; j < B; j += WG) { keys[j] = select(ninf, 0.0, ids[j] != idi); }
    nv = counts.y;
  }
  let withReplacement = nv < n;
  workgroupBarrier();

  for (var r = 0u; r < n; r++) {
    let noiseIndex = select(0u, r, withReplacement);
    var bv = ninf;
    var bi = 0xffffffffu;
    for (var j = lid; j < B; j += WG) {
      let k = keys[j];
      if (k != ninf) {
        let v = k + gumbel(seed, step, i, j, noiseIndex);
        if (v > bv || bi == 0xffffffffu) { bv = v; bi = j; }
      }
    }
    redv[lid] = bv;
    redi[lid] = bi;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s >>= 1u) {
      if (lid < s) {
        let ov = redv[lid + s];
        let oi = redi[lid + s];
        let mi = redi[lid];
        if (oi != 0xffffffffu && (mi == 0xffffffffu || ov > redv[lid] || (ov == redv[lid] && oi < mi))) {
          redv[lid] = ov;
          redi[lid] = oi;
        }
      }
      workgroupBarrier();
    }
    if (lid == 0u) {
      let best = redi[0];
      negs[draw * params.T + offset + r] = i32(best);
      if (!withReplacement && best < B) { keys[best] = ninf; }
    }
    workgroupBarrier();
  }
}
#endif
