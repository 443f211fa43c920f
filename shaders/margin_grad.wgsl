// Margin loss backward for the embeddings, without float atomics (deterministic order).
//
// Every triplet t = (a, p, n) contributes four "pair terms" coef * (x_row - x_other):
//   role 0: row a, other p, +kp      role 1: row a, other n, -kn
//   role 2: row p, other a, +kp      role 3: row n, other a, -kn
// with kp = coef[2t], kn = coef[2t + 1] (margin_reduce BACKWARD).
// CSR (one workgroup of 256 threads): rowStart[r] .. rowStart[r + 1] - 1 index the entries
//   (4t + role, t ascending) of row r; each thread owns a contiguous chunk of rows.
// GRAD: one workgroup (64 threads) per row r stages the row's pair terms in workgroup memory,
//   then each thread sums them for its columns (in entry order: deterministic).
struct Params { B: u32, C: u32, T: u32, pad0: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> ia: array<i32>;
@group(0) @binding(2) var<storage, read> ip: array<i32>;
@group(0) @binding(3) var<storage, read> inn: array<i32>;
#if ${CSR}
@group(0) @binding(4) var<storage, read_write> rowStart: array<u32>;
@group(0) @binding(5) var<storage, read_write> entries: array<u32>;
#else
@group(0) @binding(4) var<storage, read> rowStart: array<u32>;
@group(0) @binding(5) var<storage, read> entries: array<u32>;
@group(0) @binding(6) var<storage, read> coef: array<f32>;
@group(0) @binding(7) var<storage, read> x: array<f32>;
@group(0) @binding(8) var<storage, read_write> dx: array<f32>;
#endif

fn row(i: i32) -> u32 {
  return min(u32(max(i, 0)), params.B - 1u);
}

#if ${CSR}
var<workgroup> scan: array<u32, 256>;

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lid: u32) {
  let B = params.B;
  let T = params.T;
  let chunk = (B + 255u) / 256u;
  let lo = min(lid * chunk, B);
  let hi = min(lo + chunk, B);
  // entries of the rows [lo, hi)
  var total = 0u;
  for (var t = 0u; t < T; t++) {
    let a = row(ia[t]);
    let p = row(ip[t]);
    let n = row(inn[t]);
    if (a >= lo && a < hi) { total += 2u; }
    if (p >= lo && p < hi) { total += 1u; }
    if (n >= lo && n < hi) { total += 1u; }
  }
  // inclusive scan of the per-thread totals (Hillis-Steele)
  scan[lid] = total;
  workgroupBarrier();
  for (var k = 1u; k < 256u; k <<= 1u) {
    var v = 0u;
    if (lid >= k) { v = scan[lid - k]; }
    workgroupBarrier();
    scan[lid] += v;
    workgroupBarrier();
  }
  var pos = scan[lid] - total;
  if (lid == 255u) { rowStart[B] = scan[255]; }
  for (var r = lo; r < hi; r++) {
    rowStart[r] = pos;
    for (var t = 0u; t < T; t++) {
      if (row(ia[t]) == r) {
        entries[pos] = 4u * t;
        entries[pos + 1u] = 4u * t + 1u;
        pos += 2u;
      }
      if (row(ip[t]) == r) { entries[pos] = 4u * t + 2u; pos += 1u; }
      if (row(inn[t]) == r) { entries[pos] = 4u * t + 3u; pos += 1u; }
    }
  }
}
#else
var<workgroup> otherRow: array<u32, 64>;
var<workgroup> weight: array<f32, 64>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let r = wid.x + wid.y * nwg.x;
  if (r >= params.B) { return; }
  let C = params.C;
  let begin = rowStart[r];
  let end = rowStart[r + 1u];
  let base = r * C;
  if (begin == end) {
    for (var c = lid; c < C; c += 64u) { dx[base + c] = 0.0; }
    return;
  }
  // the row's pair terms, 64 at a time: (other row, weight) in workgroup memory
  for (var k0 = begin; k0 < end; k0 += 64u) {
    let k = k0 + lid;
    if (k < end) {
      let code = entries[k];
      let t = code >> 2u;
      let role = code & 3u;
      if (role == 0u) { otherRow[lid] = row(ip[t]); weight[lid] = coef[2u * t]; }
      else if (role == 1u) { otherRow[lid] = row(inn[t]); weight[lid] = -coef[2u * t + 1u]; }
      else if (role == 2u) { otherRow[lid] = row(ia[t]); weight[lid] = coef[2u * t]; }
      else { otherRow[lid] = row(ia[t]); weight[lid] = -coef[2u * t + 1u]; }
    }
    workgroupBarrier();
    let m = min(64u, end - k0);
    for (var c = lid; c < C; c += 64u) {
      let xr = x[base + c];
      var acc = select(dx[base + c], 0.0, k0 == begin);
      for (var q = 0u; q < m; q++) { acc += weight[q] * (xr - x[otherRow[q] * C + c]); }
      dx[base + c] = acc;
    }
    workgroupBarrier();
  }
}
#endif
