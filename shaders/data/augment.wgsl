// The training batch's colour augmentation on uint8 crops, torchvision's PIL semantics: colour
// jitter (brightness, contrast, saturation in each image's sampled order; every step truncates
// to 8 bits as PIL does), then ToTensor, the lighting offset, the scale, the clamp and the
// normalisation, written as f32 NCHW. One workgroup per image, because contrast blends with
// the mean luma of the image as it stands before contrast: a first loop sums the lumas (a tree
// sum of u32, exact), a second writes the pixels.
// Bindings: src (u32: the bytes of [N, H, W, 3] uint8 RGB, little-endian), prm (f32, 8 per
// image: order code op0 + 4 op1 + 16 op2 with 0 none / 1 brightness / 2 contrast / 3
// saturation, the three factors, the three lighting offsets, unused), out (f32 [N, 3, H, W]).

var<workgroup> partial: array<u32, WORKGROUP_SIZE>;
var<workgroup> meanLuma: f32;

fn byteAt(i: u32) -> f32 {
  return f32((src[i >> 2u] >> ((i & 3u) * 8u)) & 255u);
}

// PIL's clip-and-truncate to 8 bits.
fn clip8(v: f32) -> f32 {
  return clamp(floor(v), 0.0, 255.0);
}

// PIL's convert("L") of a pixel of 8-bit values.
fn luma(c: vec3f) -> f32 {
  let u = vec3u(c);
  return f32((u.x * 19595u + u.y * 38470u + u.z * 7471u + 0x8000u) >> 16u);
}

// Jitter step `op` with factor `f` on pixel `c`; `m` is the contrast's mean luma.
fn jitterStep(op: u32, f: f32, c: vec3f, m: f32) -> vec3f {
  if (op == 1u) { return vec3f(clip8(f * c.x), clip8(f * c.y), clip8(f * c.z)); }
  if (op == 2u) { return vec3f(clip8(m + f * (c.x - m)), clip8(m + f * (c.y - m)), clip8(m + f * (c.z - m))); }
  if (op == 3u) {
    let l = luma(c);
    return vec3f(clip8(l + f * (c.x - l)), clip8(l + f * (c.y - l)), clip8(l + f * (c.z - l)));
  }
  return c;
}

fn pixel(n: u32, p: u32) -> vec3f {
  let b = (n * params.plane + p) * 3u;
  return vec3f(byteAt(b), byteAt(b + 1u), byteAt(b + 2u));
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u) {
  let n = wid.x;
  let q = n * 8u;
  let code = u32(prm[q]);
  let ops = vec3u(code & 3u, (code >> 2u) & 3u, (code >> 4u) & 3u);
  var factor = vec3f(0.0);
  for (var k = 0u; k < 3u; k++) {
    if (ops[k] != 0u) { factor[k] = prm[q + ops[k]]; }
  }
  // The steps before contrast, if contrast is drawn at all, decide the mean it blends with.
  var before = 3u;
  for (var k = 0u; k < 3u; k++) {
    if (ops[k] == 2u && before == 3u) { before = k; }
  }
  if (before < 3u) {
    var sum = 0u;
    for (var p = lid; p < params.plane; p += WORKGROUP_SIZE) {
      var c = pixel(n, p);
      for (var k = 0u; k < before; k++) { c = jitterStep(ops[k], factor[k], c, 0.0); }
      sum += u32(luma(c));
    }
    partial[lid] = sum;
    workgroupBarrier();
    for (var s = WORKGROUP_SIZE / 2u; s > 0u; s = s >> 1u) {
      if (lid < s) { partial[lid] += partial[lid + s]; }
      workgroupBarrier();
    }
    // int(mean + 0.5) in integers: floor((2 sum + n) / (2 n)).
    if (lid == 0u) { meanLuma = f32((2u * partial[0] + params.plane) / (2u * params.plane)); }
  }
  workgroupBarrier();
  let m = meanLuma;
  let offset = vec3f(prm[q + 4u], prm[q + 5u], prm[q + 6u]);
  let mean = vec3f(params.mean0, params.mean1, params.mean2);
  let invStd = vec3f(params.invStd0, params.invStd1, params.invStd2);
  let base = n * 3u * params.plane;
  for (var p = lid; p < params.plane; p += WORKGROUP_SIZE) {
    var c = pixel(n, p);
    for (var k = 0u; k < 3u; k++) { c = jitterStep(ops[k], factor[k], c, m); }
    var x = (c / 255.0 + offset) * params.scale;
    if (params.clampUnit != 0u) { x = clamp(x, vec3f(0.0), vec3f(1.0)); }
    let y = (x - mean) * invStd;
    out[base + p] = y.x;
    out[base + params.plane + p] = y.y;
    out[base + 2u * params.plane + p] = y.z;
  }
}
