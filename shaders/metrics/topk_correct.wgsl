// For each row and each k in ks: 1 if the label's logit ranks within the top k, else 0.
// Rank = number of classes with a larger logit, ties broken by lower class index.
// Bindings: x (logits, f32), labels (i32), hits (f32, [rows, nk]).

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let r = gid.x;
  if (r >= params.rows) { return; }
  let base = r * params.cols;
  let label = labels[r];
  var rank = params.cols;
  if (label >= 0 && u32(label) < params.cols) {
    let v = x[base + u32(label)];
    rank = 0u;
    for (var c = 0u; c < params.cols; c++) {
      let xc = x[base + c];
      if (xc > v || (xc == v && c < u32(label))) { rank++; }
    }
  }
  for (var i = 0u; i < params.nk; i++) {
    hits[r * params.nk + i] = select(0.0, 1.0, rank < ksAt(i));
  }
}
