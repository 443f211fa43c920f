// Strided elementwise map: out[o] = OP(a[ia], b[ib]) over an iteration shape of rank <= 8.
// Each operand has an offset and strides in iteration coordinates (0 for broadcast dims), so
// the one kernel serves broadcasting arithmetic, gradients, expand, permute, slice and concat.
// OP is a WGSL expression in the operand names X (from a) and Y (from b), alpha and beta.
// CONTIGUOUS: every operand is dense with the iteration shape (no index arithmetic).
// ROWS: the iteration shape is [rows, cols] with out and one operand dense and the other one
// value per row (ROW_OPERAND: 'a' or 'b'), e.g. x[N, C, H, W] * s[N, C, 1, 1]: one division.

#if ${BINARY}
fn op(${X}: ${T}, ${Y}: ${T}) -> ${T} {
#else
fn op(${X}: ${T}) -> ${T} {
#endif
  let alpha = params.alpha;
  let beta = params.beta;
  return ${OP};
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = globalIndex(gid, nwg);
  if (i >= params.n) { return; }
#if ${CONTIGUOUS}
  let ia = i;
  let ib = i;
  let io = i;
#elif ${ROWS}
  let row = i / shapeAt(1u);
  let ia = select(i, row, ${ROW_A});
  let ib = select(i, row, !${ROW_A});
  let io = i;
#else
  var rem = i;
  var ia = params.aOffset;
  var ib = params.bOffset;
  var io = params.outOffset;
  for (var d = i32(params.rank) - 1; d >= 0; d--) {
    let du = u32(d);
    let size = shapeAt(du);
    let c = rem % size;
    rem = rem / size;
    ia += c * aStridesAt(du);
    ib += c * bStridesAt(du);
    io += c * outStridesAt(du);
  }
#endif
#if ${BINARY}
  out[io] = op(a[ia], b[ib]);
#else
  out[io] = op(a[ia]);
#endif
}
