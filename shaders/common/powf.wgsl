// Infinity and NaN cannot be WGSL constants; build them at run time.
fn infinity() -> f32 { var bits = 0x7f800000u; return bitcast<f32>(bits); }
fn nan() -> f32 { var bits = 0x7fc00000u; return bitcast<f32>(bits); }

// x^p with PyTorch's semantics for negative bases and integer exponents.
fn powf(x: f32, p: f32) -> f32 {
  if (p == 0.0) { return 1.0; }
  if (x == 0.0) { return select(infinity(), 0.0, p > 0.0); }
  let r = pow(abs(x), p);
  if (x > 0.0) { return r; }
  if (fract(p) != 0.0) { return nan(); }
  return select(r, -r, fract(p * 0.5) != 0.0);
}
