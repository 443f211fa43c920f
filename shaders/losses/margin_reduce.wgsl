// Margin loss, the per-triplet terms, in one workgroup of WORKGROUP_SIZE (256) threads (fixed
// reduction order, so results are bit-reproducible).
// FORWARD: pos_t = relu(d_ap - beta + alpha), neg_t = relu(beta - d_an + alpha);
//   active = #(pos_t > 0) + #(neg_t > 0); loss = sum(pos_t + neg_t) / max(active, 1).
// BACKWARD (COEF): with s = gradOut / max(active, 1) (active is a constant), the masks of
//   PyTorch's clamp backward mp = [d_ap - beta + alpha >= 0], mn = [beta - d_an + alpha >= 0]:
//   coef[2t] = s mp / d_ap, coef[2t + 1] = s mn / d_an (used by losses/margin_grad), and
//   dBeta = s * sum(mn - mp).

var<workgroup> red: array<vec2f, WORKGROUP_SIZE>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) lid: u32) {
  let b = beta[0];
  let alpha = params.alpha;
#if ${FORWARD}
  var acc = vec2f(0.0);   // (sum of terms, number of positive terms)
#else
  let s = gradOut[0] / max(activeCount[0], 1.0);
  var acc = vec2f(0.0);   // (sum of mn - mp, unused)
#endif
  for (var t = lid; t < params.T; t += WORKGROUP_SIZE) {
    let dap = dist[2u * t];
    let dan = dist[2u * t + 1u];
    let xp = dap - b + alpha;
    let xn = b - dan + alpha;
#if ${FORWARD}
    let pos = max(xp, 0.0);
    let neg = max(xn, 0.0);
    acc += vec2f(pos + neg, select(0.0, 1.0, pos > 0.0) + select(0.0, 1.0, neg > 0.0));
#else
    let mp = select(0.0, 1.0, xp >= 0.0);
    let mn = select(0.0, 1.0, xn >= 0.0);
    coef[2u * t] = s * mp / dap;
    coef[2u * t + 1u] = s * mn / dan;
    acc.x += mn - mp;
#endif
  }
  red[lid] = acc;
  workgroupBarrier();
  for (var k = WORKGROUP_SIZE / 2u; k > 0u; k >>= 1u) {
    if (lid < k) { red[lid] += red[lid + k]; }
    workgroupBarrier();
  }
  if (lid == 0u) {
#if ${FORWARD}
    loss[0] = red[0].x / max(red[0].y, 1.0);
    activeCount[0] = red[0].y;
#else
    dBeta[0] = s * red[0].x;
#endif
  }
}
