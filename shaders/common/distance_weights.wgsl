// Distance-weighted sampling (losses/distance_weighted_rowmax, losses/distance_weighted_sampling):
// both passes read the Gram matrix G = X Xᵀ of the [B, C] batch (binding `gram`, uniforms B, C,
// cutoff and slice) and recompute, for a pair (i, j):
//   d    = max(sqrt(max(G_ii + G_jj - 2 G_ij + [i == j], 0)), cutoff)        (cutoff = 0.5)
//   logw = (2 - C) log d - ((C - 3) / 2) log(max(1 - d² / 4, 1e-8))

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

// The rows [start, end) of row i's slice: the batch is cut into contiguous slices of `slice` rows
// (the last one shorter), as DataParallel scatters a batch over its replicas; each replica samples
// inside its own slice. slice = B samples over the whole batch.
fn sliceOf(i: u32) -> vec2u {
  let start = (i / params.slice) * params.slice;
  return vec2u(start, min(start + params.slice, params.B));
}

var<workgroup> redv: array<f32, WORKGROUP_SIZE>;

// The maximum of v over the workgroup (every thread gets it).
fn reduceMax(v: f32, lid: u32) -> f32 {
  redv[lid] = v;
  workgroupBarrier();
  for (var s = WORKGROUP_SIZE / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { redv[lid] = max(redv[lid], redv[lid + s]); }
    workgroupBarrier();
  }
  let r = redv[0];
  workgroupBarrier();
  return r;
}
