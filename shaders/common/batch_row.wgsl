// A row index of a [B, ...] batch (uniform `B`), clamped into [0, B) like gather.
fn batchRow(i: i32) -> u32 {
  return min(u32(max(i, 0)), params.B - 1u);
}
