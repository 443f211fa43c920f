// The row epilogue shared by matmul/matmul.wgsl and matmul/matmul_subgroup.wgsl (both define
// VT, the element type of C, and declare the uniform `epi` and, with EPI, the bindings rowBias,
// rowScale, rowShift and residual): a product written as a convolution has its channels as rows,
// so C = act((AB + rowBias[m]) * rowScale[m] + rowShift[m] + residual[same index as C]), by the
// bits of params.epi (1 bias, 2 scale/shift, 4 residual, 8 ReLU; the same as conv2d.wgsl's).
#if ${EPI}
/** The row epilogue of one value (or vec4) of row m stored at C[index]. */
fn epilogue(m: u32, v: VT, index: u32) -> VT {
  var r = v;
  let bits = params.epi;
  if ((bits & 1u) != 0u) { r += VT(rowBias[m]); }
  if ((bits & 2u) != 0u) { r = r * VT(rowScale[m]) + VT(rowShift[m]); }
  if ((bits & 4u) != 0u) { r += residual[index]; }
  if ((bits & 8u) != 0u) { r = max(r, VT(0.0)); }
  return r;
}
#endif
