// The training batch's colour augmentation on uint8 crops, torchvision's PIL semantics: colour
// jitter (brightness, contrast, saturation in each image's sampled order; every step truncates
// to 8 bits as PIL does), then ToTensor, the lighting offset, the scale, the clamp and the
// normalisation, written as f32 NCHW. One workgroup per image, because contrast blends with
// the mean luma of the image as it stands before contrast: a first loop sums the lumas (a tree
// sum of u32, exact), a second writes the pixels.
// The drawn horizontal flip is applied here too: a flipped image's output pixel reads the mirrored
// source pixel.
// QUAD (when W % 4 == 0, so that a row's quads mirror onto quads): each invocation takes 4
// neighbouring pixels, three u32 words of src, and writes vec4f; V is vec4f there (U vec4u,
// W 4u), else f32 (U u32, W 1u). A pixel is its three channels of V.
// Bindings: src (u32: the bytes of [N, H, W, 3] uint8 RGB, little-endian), prm (f32, 8 per
// image: order code op0 + 4 op1 + 16 op2 with 0 none / 1 brightness / 2 contrast / 3
// saturation, the three factors, the three lighting offsets, flip), out (f32 [N, 3, H, W]).

var<workgroup> partial: array<u32, WORKGROUP_SIZE>;
var<workgroup> meanLuma: f32;

struct Px { r: ${V}, g: ${V}, b: ${V} }

// PIL's clip-and-truncate to 8 bits.
fn clip8(v: ${V}) -> ${V} {
  return clamp(floor(v), ${V}(0.0), ${V}(255.0));
}

// PIL's convert("L") of a pixel of 8-bit values.
fn luma(c: Px) -> ${V} {
  return ${V}((${U}(c.r) * 19595u + ${U}(c.g) * 38470u + ${U}(c.b) * 7471u + 0x8000u) >> ${U}(16u));
}

// Jitter step `op` with factor `f` on pixel `c`; `m` is the contrast's mean luma.
fn jitterStep(op: u32, f: f32, c: Px, m: f32) -> Px {
  if (op == 1u) { return Px(clip8(f * c.r), clip8(f * c.g), clip8(f * c.b)); }
  if (op == 2u) { return Px(clip8(m + f * (c.r - m)), clip8(m + f * (c.g - m)), clip8(m + f * (c.b - m))); }
  if (op == 3u) {
    let l = luma(c);
    return Px(clip8(l + f * (c.r - l)), clip8(l + f * (c.g - l)), clip8(l + f * (c.b - l)));
  }
  return c;
}

#if ${QUAD}
// Pixels 4p .. 4p + 3 of image n: 12 bytes, three whole words (the image starts on a word).
fn pixel(n: u32, p: u32) -> Px {
  let i = 3u * (n * (params.plane / 4u) + p);
  let a = src[i];
  let b = src[i + 1u];
  let c = src[i + 2u];
  let m = vec4u(255u);
  return Px(vec4f(vec4u(a, a >> 24u, b >> 16u, c >> 8u) & m), vec4f(vec4u(a >> 8u, b, b >> 24u, c >> 16u) & m),
            vec4f(vec4u(a >> 16u, b >> 8u, c, c >> 24u) & m));
}

fn total(l: vec4f) -> u32 {
  return dot(vec4u(l), vec4u(1u));
}

// The source of output quad p of a flipped image: the mirrored quad, its pixels reversed.
fn mirrored(n: u32, p: u32) -> Px {
  let quads = params.width / 4u;
  let row = p / quads;
  let c = pixel(n, row * quads + quads - 1u - (p - row * quads));
  return Px(c.r.wzyx, c.g.wzyx, c.b.wzyx);
}
#else
fn byteAt(i: u32) -> f32 {
  return f32((src[i >> 2u] >> ((i & 3u) * 8u)) & 255u);
}

fn pixel(n: u32, p: u32) -> Px {
  let b = (n * params.plane + p) * 3u;
  return Px(byteAt(b), byteAt(b + 1u), byteAt(b + 2u));
}

fn total(l: f32) -> u32 {
  return u32(l);
}

fn mirrored(n: u32, p: u32) -> Px {
  let row = p / params.width;
  return pixel(n, row * params.width + params.width - 1u - (p - row * params.width));
}
#endif

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
  // Units of V per plane: pixels, or quads of pixels.
  let units = params.plane / ${W};
  // The steps before contrast, if contrast is drawn at all, decide the mean it blends with.
  var before = 3u;
  for (var k = 0u; k < 3u; k++) {
    if (ops[k] == 2u && before == 3u) { before = k; }
  }
  if (before < 3u) {
    var sum = 0u;
    for (var p = lid; p < units; p += WORKGROUP_SIZE) {
      var c = pixel(n, p);
      for (var k = 0u; k < before; k++) { c = jitterStep(ops[k], factor[k], c, 0.0); }
      sum += total(luma(c));
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
  let base = n * 3u * units;
  let flip = prm[q + 7u] != 0.0;
  for (var p = lid; p < units; p += WORKGROUP_SIZE) {
    var c: Px;
    if (flip) { c = mirrored(n, p); } else { c = pixel(n, p); }
    for (var k = 0u; k < 3u; k++) { c = jitterStep(ops[k], factor[k], c, m); }
    var r = (c.r / 255.0 + prm[q + 4u]) * params.scale;
    var g = (c.g / 255.0 + prm[q + 5u]) * params.scale;
    var b = (c.b / 255.0 + prm[q + 6u]) * params.scale;
    if (params.clampUnit != 0u) {
      r = clamp(r, ${V}(0.0), ${V}(1.0));
      g = clamp(g, ${V}(0.0), ${V}(1.0));
      b = clamp(b, ${V}(0.0), ${V}(1.0));
    }
    out[base + p] = (r - params.mean0) * params.invStd0;
    out[base + units + p] = (g - params.mean1) * params.invStd1;
    out[base + 2u * units + p] = (b - params.mean2) * params.invStd2;
  }
}
