// Margin loss backward for the embeddings, without float atomics (deterministic order).
//
// Every triplet t = (a, p, n) contributes four "pair terms" coef * (x_row - x_other):
//   role 0: row a, other p, +kp      role 1: row a, other n, -kn
//   role 2: row p, other a, +kp      role 3: row n, other a, -kn
// with kp = coef[2t], kn = coef[2t + 1] (losses/margin_reduce BACKWARD).
// One workgroup (WORKGROUP_SIZE = 64 threads) per row r stages the row's pair terms (listed by
// losses/margin_csr) in workgroup memory, then each thread sums them for its columns (in entry
// order: deterministic).

var<workgroup> otherRow: array<u32, WORKGROUP_SIZE>;
var<workgroup> weight: array<f32, WORKGROUP_SIZE>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let r = workgroupIndex(wid, nwg);
  if (r >= params.B) { return; }
  let C = params.C;
  let begin = rowStart[r];
  let end = rowStart[r + 1u];
  let base = r * C;
  if (begin == end) {
    for (var c = lid; c < C; c += WORKGROUP_SIZE) { dx[base + c] = 0.0; }
    return;
  }
  // the row's pair terms, WORKGROUP_SIZE at a time: (other row, weight) in workgroup memory
  for (var k0 = begin; k0 < end; k0 += WORKGROUP_SIZE) {
    let k = k0 + lid;
    if (k < end) {
      let code = entries[k];
      let t = code >> 2u;
      let role = code & 3u;
      if (role == 0u) { otherRow[lid] = batchRow(ip[t]); weight[lid] = coef[2u * t]; }
      else if (role == 1u) { otherRow[lid] = batchRow(inn[t]); weight[lid] = -coef[2u * t + 1u]; }
      else if (role == 2u) { otherRow[lid] = batchRow(ia[t]); weight[lid] = coef[2u * t]; }
      else { otherRow[lid] = batchRow(ia[t]); weight[lid] = -coef[2u * t + 1u]; }
    }
    workgroupBarrier();
    let m = min(WORKGROUP_SIZE, end - k0);
    for (var c = lid; c < C; c += WORKGROUP_SIZE) {
      let xr = x[base + c];
      var acc = select(dx[base + c], 0.0, k0 == begin);
      for (var q = 0u; q < m; q++) { acc += weight[q] * (xr - x[otherRow[q] * C + c]); }
      dx[base + c] = acc;
    }
    workgroupBarrier();
  }
}
