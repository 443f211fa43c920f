// The fused epilogue of the convolution kernels (conv2d/gemm, conv2d/wino_output). By the bits
// of params.epi:
//   v = acc (+ bias[ch]) (* scale[ch] + shift[ch]) (+ residual[index]) then ReLU.
// The kernel declares the uniform `epi` and the bindings bias, scale, shift, residual; absent
// operands are bound to a small placeholder and never read, so they add no shader variants.
// The residual may be stored as f16 (half-precision inference); the sum is f32.

const EPI_BIAS = 1u;
const EPI_AFFINE = 2u;
const EPI_RESIDUAL = 4u;
const EPI_RELU = 8u;

fn epilogue(ch: u32, index: u32, acc: f32) -> f32 {
  var v = acc;
  let epi = params.epi;
  if ((epi & EPI_BIAS) != 0u) {
    v += bias[ch];
  }
  if ((epi & EPI_AFFINE) != 0u) {
    v = v * scale[ch] + shift[ch];
  }
  if ((epi & EPI_RESIDUAL) != 0u) {
    v += f32(residual[index]);
  }
  if ((epi & EPI_RELU) != 0u) {
    v = max(v, 0.0);
  }
  return v;
}
