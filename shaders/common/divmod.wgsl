// (a / d, a % d) for a < 2^22, inv = 1 / d in f32: exact through a float reciprocal and one
// correction step (CPU Vulkan scalarizes integer vector division; GPUs emulate it too).
fn divmod(a: u32, d: u32, inv: f32) -> vec2u {
  var q = u32(f32(a) * inv);
  var r = i32(a) - i32(q * d);
  if (r < 0) { q -= 1u; r += i32(d); } else if (r >= i32(d)) { q += 1u; r -= i32(d); }
  return vec2u(q, u32(r));
}
