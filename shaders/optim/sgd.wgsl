// SGD with momentum and weight decay, PyTorch semantics (dampening 0, no Nesterov):
//   d = g + wd * p;  v = first ? d : momentum * v + d;  p -= lr * v

// VEC4: four elements per invocation (n counts vec4s; the tensor's size is a multiple of 4):
// on CPU Vulkan every storage access is a per-lane gather, so a vec4 one costs about a scalar's.
#if ${VEC4}
alias T = vec4f;
#else
alias T = f32;
#endif

// Bindings: grad, param, velocity, of T.

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = globalIndex(gid, nwg);
  if (i >= params.n) { return; }
  let p = param[i];
  let d = grad[i] + params.weightDecay * p;
  var v = d;
  if (params.first == 0u) { v = params.momentum * velocity[i] + d; }
  velocity[i] = v;
  param[i] = p - params.lr * v;
}
