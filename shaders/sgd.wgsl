// SGD with momentum and weight decay, PyTorch semantics (dampening 0, no Nesterov):
//   d = g + wd * p;  v = first ? d : momentum * v + d;  p -= lr * v
struct Params { n: u32, first: u32, lr: f32, momentum: f32, weightDecay: f32, pad0: u32, pad1: u32, pad2: u32 }

// VEC4: four elements per invocation (n counts vec4s; the tensor's size is a multiple of 4):
// on CPU Vulkan every storage access is a per-lane gather, so a vec4 one costs about a scalar's.
#if ${VEC4}
alias T = vec4f;
#else
alias T = f32;
#endif

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> grad: array<T>;
@group(0) @binding(2) var<storage, read_write> param: array<T>;
@group(0) @binding(3) var<storage, read_write> velocity: array<T>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= params.n) { return; }
  let p = param[i];
  let d = grad[i] + params.weightDecay * p;
  var v = d;
  if (params.first == 0u) { v = params.momentum * velocity[i] + d; }
  velocity[i] = v;
  param[i] = p - params.lr * v;
}
