// Weight re-layout for one stride phase of the convolution input gradient:
//   out[g, ci, co, th, tw] = w[g*Cog + co, ci, kh0 + th*khStep, kw0 + tw*kwStep]
// so that the dgrad GEMM reads its A operand (rows ci, k = (co, th, tw)) contiguously along k
// (vec4 loads, coalesced tile loads). One thread per output element, 1-D grid folded to 2-D.

struct Params {
  total: u32, Cig: u32, Cog: u32, THp: u32,
  TWp: u32, KH: u32, KW: u32, kh0: u32,
  kw0: u32, khStep: u32, kwStep: u32, pad0: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = (wid.x + wid.y * nwg.x) * 256u + li;
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
