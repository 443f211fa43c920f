// Softmax cross-entropy with integer labels, one workgroup (WORKGROUP_SIZE = 64 threads) per row.
// FORWARD: rowLoss[r] = logsumexp(x[r]) - x[r, label[r]] and probs[r] = softmax(x[r]);
//   a label outside [0, C) gives NaN, so a bad label cannot pass silently.
// BACKWARD: dx[r, c] = (probs[r, c] - [c == label[r]]) * gradOut[0] * scale  (scale = 1/N).

// Bindings: FORWARD x, labels, probs, rowLoss; BACKWARD probs, labels, gradOut, dx (labels i32).

var<workgroup> scratch: array<f32, WORKGROUP_SIZE>;

fn reduceMax(v: f32, lid: u32) -> f32 {
  scratch[lid] = v;
  workgroupBarrier();
  for (var s = WORKGROUP_SIZE / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { scratch[lid] = max(scratch[lid], scratch[lid + s]); }
    workgroupBarrier();
  }
  let r = scratch[0];
  workgroupBarrier();
  return r;
}

fn reduceSum(v: f32, lid: u32) -> f32 {
  scratch[lid] = v;
  workgroupBarrier();
  for (var s = WORKGROUP_SIZE / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { scratch[lid] += scratch[lid + s]; }
    workgroupBarrier();
  }
  let r = scratch[0];
  workgroupBarrier();
  return r;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let r = workgroupIndex(wid, nwg);
  if (r >= params.rows) { return; }  // uniform per workgroup
  let base = r * params.cols;
  let label = labels[r];
#if ${FORWARD}
  var m = -3.4e38;
  for (var c = lid; c < params.cols; c += WORKGROUP_SIZE) { m = max(m, x[base + c]); }
  m = reduceMax(m, lid);
  var s = 0.0;
  for (var c = lid; c < params.cols; c += WORKGROUP_SIZE) { s += exp(x[base + c] - m); }
  s = reduceSum(s, lid);
  for (var c = lid; c < params.cols; c += WORKGROUP_SIZE) { probs[base + c] = exp(x[base + c] - m) / s; }
  if (lid == 0u) {
    if (label < 0 || u32(label) >= params.cols) {
      var nanBits = 0x7fc00000u;
      rowLoss[r] = bitcast<f32>(nanBits);
    } else {
      rowLoss[r] = log(s) + m - x[base + u32(label)];
    }
  }
#else
  let g = gradOut[0] * params.scale;
  for (var c = lid; c < params.cols; c += WORKGROUP_SIZE) {
    let onehot = select(0.0, 1.0, i32(c) == label);
    dx[base + c] = (probs[base + c] - onehot) * g;
  }
#endif
}
