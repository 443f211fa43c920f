// Margin loss backward, pass 1: the pair terms of each embedding row, as a CSR list, so that
// losses/margin_grad sums them without float atomics (deterministic order).
//
// Every triplet t = (a, p, n) contributes four "pair terms" coef * (x_row - x_other):
//   role 0: row a, other p, +kp      role 1: row a, other n, -kn
//   role 2: row p, other a, +kp      role 3: row n, other a, -kn
// with kp = coef[2t], kn = coef[2t + 1] (losses/margin_reduce BACKWARD).
// One workgroup of WORKGROUP_SIZE (256) threads: rowStart[r] .. rowStart[r + 1] - 1 index the
// entries (4t + role, t ascending) of row r; each thread owns a contiguous chunk of rows.

var<workgroup> scan: array<u32, WORKGROUP_SIZE>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) lid: u32) {
  let B = params.B;
  let T = params.T;
  let chunk = (B + WORKGROUP_SIZE - 1u) / WORKGROUP_SIZE;
  let lo = min(lid * chunk, B);
  let hi = min(lo + chunk, B);
  // entries of the rows [lo, hi)
  var total = 0u;
  for (var t = 0u; t < T; t++) {
    let a = batchRow(ia[t]);
    let p = batchRow(ip[t]);
    let n = batchRow(inn[t]);
    if (a >= lo && a < hi) { total += 2u; }
    if (p >= lo && p < hi) { total += 1u; }
    if (n >= lo && n < hi) { total += 1u; }
  }
  // inclusive scan of the per-thread totals (Hillis-Steele)
  scan[lid] = total;
  workgroupBarrier();
  for (var k = 1u; k < WORKGROUP_SIZE; k <<= 1u) {
    var v = 0u;
    if (lid >= k) { v = scan[lid - k]; }
    workgroupBarrier();
    scan[lid] += v;
    workgroupBarrier();
  }
  var pos = scan[lid] - total;
  if (lid == WORKGROUP_SIZE - 1u) { rowStart[B] = scan[WORKGROUP_SIZE - 1u]; }
  for (var r = lo; r < hi; r++) {
    rowStart[r] = pos;
    for (var t = 0u; t < T; t++) {
      if (batchRow(ia[t]) == r) {
        entries[pos] = 4u * t;
        entries[pos + 1u] = 4u * t + 1u;
        pos += 2u;
      }
      if (batchRow(ip[t]) == r) { entries[pos] = 4u * t + 2u; pos += 1u; }
      if (batchRow(inn[t]) == r) { entries[pos] = 4u * t + 3u; pos += 1u; }
    }
  }
}
