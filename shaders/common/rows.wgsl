// Row reductions with T threads per row (a power of two, define T) and WORKGROUP_SIZE / T rows
// per workgroup: neighbouring threads read neighbouring values of a row (coalesced), then a
// tree over the row's T partials in workgroup memory (the helpers below; every thread of the
// workgroup must call them, valid row or not, as they hold barriers).
const T = ${T}u;
const ROWS_PER_WORKGROUP = WORKGROUP_SIZE / T;

fn rowIndex(wid: vec3u, nwg: vec3u, lid: u32) -> u32 {
  return workgroupIndex(wid, nwg) * ROWS_PER_WORKGROUP + lid / T;
}

// This thread's place among its row's T threads.
fn rowLane(lid: u32) -> u32 {
  return lid % T;
}

var<workgroup> rowRed0: array<f32, WORKGROUP_SIZE>;
var<workgroup> rowRed1: array<f32, WORKGROUP_SIZE>;
var<workgroup> rowRedI: array<u32, WORKGROUP_SIZE>;

// The row's total of the partials v: their sum, or with isMax their maximum.
fn rowSumOrMax(lid: u32, v: f32, isMax: bool) -> f32 {
  let lane = lid % T;
  rowRed0[lid] = v;
  workgroupBarrier();
  for (var k = T / 2u; k > 0u; k = k >> 1u) {
    if (lane < k) {
      rowRed0[lid] = select(rowRed0[lid] + rowRed0[lid + k], max(rowRed0[lid], rowRed0[lid + k]), isMax);
    }
    workgroupBarrier();
  }
  return rowRed0[lid - lane];
}

// The row's sums of two partials (a0, a1).
fn rowSums(lid: u32, a0: f32, a1: f32) -> vec2f {
  let lane = lid % T;
  rowRed0[lid] = a0;
  rowRed1[lid] = a1;
  workgroupBarrier();
  for (var k = T / 2u; k > 0u; k = k >> 1u) {
    if (lane < k) {
      rowRed0[lid] += rowRed0[lid + k];
      rowRed1[lid] += rowRed1[lid + k];
    }
    workgroupBarrier();
  }
  let head = lid - lane;
  return vec2f(rowRed0[head], rowRed1[head]);
}

struct RowArgReduction { a0: f32, a1: f32, index: u32 }

// rowSums of (a0, a1), or with isMax the maximum of a0 and the smallest index ai holding it
// (a1 is then left as is).
fn rowSumsOrArgmax(lid: u32, a0: f32, a1: f32, ai: u32, isMax: bool) -> RowArgReduction {
  let lane = lid % T;
  rowRed0[lid] = a0;
  rowRed1[lid] = a1;
  rowRedI[lid] = ai;
  workgroupBarrier();
  for (var k = T / 2u; k > 0u; k = k >> 1u) {
    if (lane < k) {
      if (isMax) {
        let v = rowRed0[lid + k];
        let j = rowRedI[lid + k];
        if (v > rowRed0[lid] || (v == rowRed0[lid] && j < rowRedI[lid])) {
          rowRed0[lid] = v;
          rowRedI[lid] = j;
        }
      } else {
        rowRed0[lid] += rowRed0[lid + k];
        rowRed1[lid] += rowRed1[lid + k];
      }
    }
    workgroupBarrier();
  }
  let head = lid - lane;
  return RowArgReduction(rowRed0[head], rowRed1[head], rowRedI[head]);
}
