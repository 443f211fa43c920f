// Batchnorm, second level of the reductions: one thread per channel combines its chunk
// partials (from batchnorm/reduce.wgsl) into per-channel values.
//   MODE_TRAIN: batch statistics -> stats [4, C] = (mean, invstd, scale = w*invstd, bias),
//     biased variance for the normalization; running mean/var updated in place with
//     running = (1 - momentum) * running + momentum * batch, unbiased variance (PyTorch).
//   MODE_EVAL: the same stats rows from the running estimates (no reduction).
//   MODE_FOLD: eval-mode batchnorm folded to y = x * scale + shift: scale [C], shift [C].
//   MODE_BACKWARD: from sums of dy and dy*(x-mean): dweight, dbias, and the coefficients of
//     dx = (x - mean) * B + C0 + dy * A in coef [4, C] = (mean, B, C0, A).
//   MODE_PLAIN: the two sums, written to sums [2, C].

// Bindings, by mode (kernels/batchnorm/stats.ts): the buffers named below, f32.

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let c = gid.x;
  let nc = params.c;
  if (c >= nc) { return; }
#if ${MODE_EVAL}
  let mean = runningMean[c];
  let invstd = 1.0 / sqrt(runningVar[c] + params.eps);
  stats[c] = mean;
  stats[nc + c] = invstd;
  stats[2u * nc + c] = weight[c] * invstd;
  stats[3u * nc + c] = bias[c];
#elif ${MODE_FOLD}
  let k = weight[c] / sqrt(runningVar[c] + params.eps);
  scale[c] = k;
  shift[c] = bias[c] - runningMean[c] * k;
#else
  var s0 = 0.0;
  var s1 = 0.0;
  for (var s = 0u; s < params.chunks; s++) {
    let o = (c * params.chunks + s) * 2u;
    s0 += partials[o];
    s1 += partials[o + 1u];
  }
  let count = f32(params.m);
#if ${MODE_TRAIN}
  let d = s0 / count;
  let variance = max(s1 / count - d * d, 0.0);
  let mean = x[c * params.hw] + d;
  let invstd = 1.0 / sqrt(variance + params.eps);
  stats[c] = mean;
  stats[nc + c] = invstd;
  stats[2u * nc + c] = weight[c] * invstd;
  stats[3u * nc + c] = bias[c];
  let unbiased = variance * count / (count - 1.0);
  let mom = params.momentum;
  runningMean[c] = (1.0 - mom) * runningMean[c] + mom * mean;
  runningVar[c] = (1.0 - mom) * runningVar[c] + mom * unbiased;
#elif ${MODE_BACKWARD}
  let mean = stats[c];
  let invstd = stats[nc + c];
  let dw = s1 * invstd;
  dweight[c] = dw;
  dbias[c] = s0;
  let a = weight[c] * invstd;
  coef[c] = mean;
  coef[nc + c] = -a * invstd * dw / count;
  coef[2u * nc + c] = -a * s0 / count;
  coef[3u * nc + c] = a;
#else
  sums[c] = s0;
  sums[nc + c] = s1;
#endif
#endif
}
