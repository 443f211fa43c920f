// Batchnorm, second level of the reductions: one thread per channel combines its chunk
// partials (from batchnorm_reduce.wgsl) into per-channel values.
//   MODE_TRAIN: batch statistics -> stats [4, C] = (mean, invstd, scale = w*invstd, bias),
//     biased variance for the normalization; running mean/var updated in place with
//     running = (1 - momentum) * running + momentum * batch, unbiased variance (PyTorch).
//   MODE_EVAL: the same stats rows from the running estimates (no reduction).
//   MODE_FOLD: eval-mode batchnorm folded to y = x * scale + shift: scale [C], shift [C].
//   MODE_BACKWARD: from sums of dy and dy*(x-mean): dweight, dbias, and the coefficients of
//     dx = (x - mean) * B + C0 + dy * A in coef [4, C] = (mean, B, C0, A).
//   MODE_PLAIN: the two sums, written to sums [2, C].

struct Params {
  c: u32, chunks: u32, hw: u32, m: u32,
  eps: f32, momentum: f32, pad0: u32, pad1: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
#if ${MODE_TRAIN}
@group(0) @binding(1) var<storage, read> partials: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> weight: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
@group(0) @binding(5) var<storage, read_write> runningMean: array<f32>;
@group(0) @binding(6) var<storage, read_write> runningVar: array<f32>;
@group(0) @binding(7) var<storage, read_write> stats: array<f32>;
#elif ${MODE_EVAL}
@group(0) @binding(1) var<storage, read> weight: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read> runningMean: array<f32>;
@group(0) @binding(4) var<storage, read> runningVar: array<f32>;
@group(0) @binding(5) var<storage, read_write> stats: array<f32>;
#elif ${MODE_FOLD}
@group(0) @binding(1) var<storage, read> weight: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read> runningMean: array<f32>;
@group(0) @binding(4) var<storage, read> runningVar: array<f32>;
@group(0) @binding(5) var<storage, read_write> scale: array<f32>;
@group(0) @binding(6) var<storage, read_write> shift: array<f32>;
#elif ${MODE_BACKWARD}
@group(0) @binding(1) var<storage, read> partials: array<f32>;
@group(0) @binding(2) var<storage, read> stats: array<f32>;
@group(0) @binding(3) var<storage, read> weight: array<f32>;
@group(0) @binding(4) var<storage, read_write> dweight: array<f32>;
@group(0) @binding(5) var<storage, read_write> dbias: array<f32>;
@group(0) @binding(6) var<storage, read_write> coef: array<f32>;
#else
@group(0) @binding(1) var<storage, read> partials: array<f32>;
@group(0) @binding(2) var<storage, read_write> sums: array<f32>;
#endif

@compute @workgroup_size(64)
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
