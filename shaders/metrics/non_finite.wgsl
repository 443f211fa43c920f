// Counts the NaN and infinite elements of one f32 tensor into out[slot], in one workgroup
// (a loop over the tensor, then a tree sum in workgroup memory; no atomics, so exact and
// deterministic). The tensor is read as u32 bit patterns: an exponent of all ones is NaN or
// infinity, a test that holds even where a compiler assumes floats are finite.
// Bindings: x (u32 view of the f32 tensor), out (f32, one count per slot).

var<workgroup> partial: array<u32, WORKGROUP_SIZE>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) lid: u32) {
  var count = 0u;
  for (var i = lid; i < params.n; i += WORKGROUP_SIZE) {
    if ((x[i] & 0x7f800000u) == 0x7f800000u) { count += 1u; }
  }
  partial[lid] = count;
  workgroupBarrier();
  for (var s = WORKGROUP_SIZE / 2u; s > 0u; s = s >> 1u) {
    if (lid < s) { partial[lid] += partial[lid + s]; }
    workgroupBarrier();
  }
  if (lid == 0u) { out[params.slot] = f32(partial[0]); }
}
