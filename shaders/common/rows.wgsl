// Row reductions with T threads per row (a power of two, define T) and WORKGROUP_SIZE / T rows
// per workgroup: neighbouring threads read neighbouring values of a row (coalesced), then a
// tree over the row's T partials in workgroup memory.
const T = ${T}u;
const ROWS_PER_WORKGROUP = WORKGROUP_SIZE / T;

fn rowIndex(wid: vec3u, nwg: vec3u, lid: u32) -> u32 {
  return workgroupIndex(wid, nwg) * ROWS_PER_WORKGROUP + lid / T;
}
