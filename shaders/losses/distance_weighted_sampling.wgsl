// Distance-weighted sampling (Wu et al. 2017, as in MultiGrain's modules/margin.py), pass 2,
// after losses/distance_weighted_rowmax; the pair weights come from the distance_weights snippet.
//
// One workgroup per (anchor, draw). Only the j of anchor i's slice (sliceOf) take part: each
//   replica of the original samples inside its own share of the batch. M = max of rowmax over
//   the slice's rows. Entry j of anchor i's row has a
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

const MAX_B = ${MAX_B}u;
const LOG_FLOOR = -103.97207708;  // ln(2^-150): below it exp rounds to 0 in f32 (IEEE, denormals kept)

var<workgroup> redi: array<u32, WORKGROUP_SIZE>;
var<workgroup> keys: array<f32, MAX_B>;
var<workgroup> cnt: array<vec2u, WORKGROUP_SIZE>;
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

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let w = workgroupIndex(wid, nwg);
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

  // max of logw over the slice's matrix (the whole matrix when slice = B)
  let seg = sliceOf(i);
  var m = ninf;
  for (var r = seg.x + lid; r < seg.y; r += WORKGROUP_SIZE) { m = max(m, rowmax[r]); }
  m = reduceMax(m, lid);

  // base keys (logw - M, or -inf where w = 0) and counts (non-zero weights, other instances)
  let idi = ids[i];
  var c = vec2u(0u);
  for (var j = seg.x + lid; j < seg.y; j += WORKGROUP_SIZE) {
    let dl = pairLogw(i, j);
    let rel = dl.y - m;
    let other = ids[j] != idi;
    let valid = other && dl.x < params.nonzeroCutoff && rel > LOG_FLOOR;
    keys[j] = select(ninf, rel, valid);
    c += vec2u(select(0u, 1u, valid), select(0u, 1u, other));
  }
  cnt[lid] = c;
  workgroupBarrier();
  for (var s = WORKGROUP_SIZE / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { cnt[lid] += cnt[lid + s]; }
    workgroupBarrier();
  }
  if (lid == 0u) { shared_nv = cnt[0]; }
  let counts = workgroupUniformLoad(&shared_nv);
  var nv = counts.x;
  if (nv == 0u) {
    // the whole row is zero: uniform over the other instances
    for (var j = seg.x + lid; j < seg.y; j += WORKGROUP_SIZE) { keys[j] = select(ninf, 0.0, ids[j] != idi); }
    nv = counts.y;
  }
  let withReplacement = nv < n;
  workgroupBarrier();

  for (var r = 0u; r < n; r++) {
    let noiseIndex = select(0u, r, withReplacement);
    var bv = ninf;
    var bi = 0xffffffffu;
    for (var j = seg.x + lid; j < seg.y; j += WORKGROUP_SIZE) {
      let k = keys[j];
      if (k != ninf) {
        let v = k + gumbel(seed, step, i, j, noiseIndex);
        if (v > bv || bi == 0xffffffffu) { bv = v; bi = j; }
      }
    }
    redv[lid] = bv;
    redi[lid] = bi;
    workgroupBarrier();
    for (var s = WORKGROUP_SIZE / 2u; s > 0u; s >>= 1u) {
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
