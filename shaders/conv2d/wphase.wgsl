// Weight re-layout for one stride phase of the convolution input gradient:
//   out[g, ci, co, th, tw] = w[g*Cog + co, ci, kh0 + th*khStep, kw0 + tw*kwStep]
// so that the dgrad GEMM reads its A operand (rows ci, k = (co, th, tw)) contiguously along k
// (vec4 loads, coalesced tile loads). One thread per output element, 1-D grid folded to 2-D.

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = globalIndex(gid, nwg);
  if (i >= params.total) { return; }
  let taps = params.THp * params.TWp;
  let t = i % taps;
  let rest = i / taps;
  let co = rest % params.Cog;
  let rest2 = rest / params.Cog;
  let ci = rest2 % params.Cig;
  let g = rest2 / params.Cig;
  let th = t / params.TWp;
  let tw = t - th * params.TWp;
  let kh = params.kh0 + th * params.khStep;
  let kw = params.kw0 + tw * params.kwStep;
  out[i] = w[(((g * params.Cog + co) * params.Cig + ci) * params.KH + kh) * params.KW + kw];
}
