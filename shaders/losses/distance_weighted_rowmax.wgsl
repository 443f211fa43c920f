// Distance-weighted sampling (Wu et al. 2017, as in MultiGrain's modules/margin.py), pass 1:
// one workgroup per row i writes rowmax[i] = max_j logw(i, j) over the j of row i's slice (the
// diagonal, same-instance and far pairs included, as the original takes the max over the whole
// matrix of its replica).
// The pair weights come from the distance_weights snippet.

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = workgroupIndex(wid, nwg);
  if (i >= params.B) { return; }
  let seg = sliceOf(i);
  var m = negInf();
  for (var j = seg.x + lid; j < seg.y; j += WORKGROUP_SIZE) { m = max(m, pairLogw(i, j).y); }
  m = reduceMax(m, lid);
  if (lid == 0u) { rowmax[i] = m; }
}
