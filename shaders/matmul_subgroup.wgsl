// Matmul for CPU adapters with subgroups of 8 lanes (lavapipe): C[z] = op(A[z]) * B[z], B read as
// vec4 along N, row-major C, no column bias (matmul.wgsl does that). Each subgroup
// computes 32 rows x 32 columns (optional row epilogue EPI, matmul_epilogue.wgsl): lane j keeps the 32 rows of its own 4 columns (32 vec4
// accumulators) and loads only 4 values of A per k (rows j, j+8, j+16, j+24), which the other
// lanes read through subgroupBroadcast. Why: on lavapipe every storage load runs lane by lane
// with its own bounds check (about 15 instructions a lane), so the 8x16-per-lane block of
// matmul.wgsl spends most of its time in its 12 loads per k; here a lane does 5 loads per k for
// the same 128 multiply-adds, and a broadcast is one shuffle. Measured on lavapipe: 1.2-1.8x
// the GFLOP/s of matmul.wgsl on the batched Winograd products of ResNet training.
// The 64 invocations form 8 subgroups (consecutive invocations, as on lavapipe): params.wx
// (sy) of them along M and 8 / sy along N. Same Params, batching, strides and column folding
// (nPer) as matmul.wgsl. Dispatch: x = ceil(groups / (8 * 8 / sy)), y = ceil(M / (32 * sy)),
// z = batches not folded, where groups = N / 4.
enable subgroups;

struct Params {
  M: u32, N: u32, K: u32, groups: u32,
  aBatch: u32, bBatch: u32, cBatch: u32, wx: u32,
  sam: u32, sak: u32, sbk: u32, sbn: u32,       // sbk in vec4 units
  zero: u32, nPer: u32, epi: u32, pad0: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> C: array<vec4f>;
alias VT = vec4f;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32, @builtin(subgroup_invocation_id) lane: u32) {
  let sy = params.wx;
  let sx = 8u / sy;
  let s = lid / 8u;
  let m0 = (wid.y * sy + s / sx) * 32u;
  let g = (wid.x * sx + s % sx) * 8u + lane;  // this lane's group of 4 columns
  let z = wid.z;
  let aBase = z * params.aBatch;
  let last = params.M - 1u;
  // column group g (clamped into range: computed, never stored) of batch n / nPer when folded
  let n = 4u * min(g, params.groups - 1u);
  let zi = n / params.nPer;
  let bStart = (z * params.bBatch + zi * params.bBatch + n - zi * params.nPer) / 4u;
  let ra0 = aBase + min(m0 + lane + 0u, last) * params.sam;
  let ra1 = aBase + min(m0 + lane + 8u, last) * params.sam;
  let ra2 = aBase + min(m0 + lane + 16u, last) * params.sam;
  let ra3 = aBase + min(m0 + lane + 24u, last) * params.sam;
  var c0 = vec4f(0.0); var c1 = vec4f(0.0); var c2 = vec4f(0.0); var c3 = vec4f(0.0);
  var c4 = vec4f(0.0); var c5 = vec4f(0.0); var c6 = vec4f(0.0); var c7 = vec4f(0.0);
  var c8 = vec4f(0.0); var c9 = vec4f(0.0); var c10 = vec4f(0.0); var c11 = vec4f(0.0);
  var c12 = vec4f(0.0); var c13 = vec4f(0.0); var c14 = vec4f(0.0); var c15 = vec4f(0.0);
  var c16 = vec4f(0.0); var c17 = vec4f(0.0); var c18 = vec4f(0.0); var c19 = vec4f(0.0);
  var c20 = vec4f(0.0); var c21 = vec4f(0.0); var c22 = vec4f(0.0); var c23 = vec4f(0.0);
  var c24 = vec4f(0.0); var c25 = vec4f(0.0); var c26 = vec4f(0.0); var c27 = vec4f(0.0);
  var c28 = vec4f(0.0); var c29 = vec4f(0.0); var c30 = vec4f(0.0); var c31 = vec4f(0.0);
  for (var k = 0u; k < params.K; k++) {
    let ak = k * params.sak;
    let a0 = A[ra0 + ak];
    let a1 = A[ra1 + ak];
    let a2 = A[ra2 + ak];
    let a3 = A[ra3 + ak];
    let b = B[bStart + k * params.sbk];
    c0 = fma(vec4f(subgroupBroadcast(a0, 0u)), b, c0);
    c1 = fma(vec4f(subgroupBroadcast(a0, 1u)), b, c1);
    c2 = fma(vec4f(subgroupBroadcast(a0, 2u)), b, c2);
    c3 = fma(vec4f(subgroupBroadcast(a0, 3u)), b, c3);
    c4 = fma(vec4f(subgroupBroadcast(a0, 4u)), b, c4);
    c5 = fma(vec4f(subgroupBroadcast(a0, 5u)), b, c5);
    c6 = fma(vec4f(subgroupBroadcast(a0, 6u)), b, c6);
    c7 = fma(vec4f(subgroupBroadcast(a0, 7u)), b, c7);
    c8 = fma(vec4f(subgroupBroadcast(a1, 0u)), b, c8);
    c9 = fma(vec4f(subgroupBroadcast(a1, 1u)), b, c9);
    c10 = fma(vec4f(subgroupBroadcast(a1, 2u)), b, c10);
    c11 = fma(vec4f(subgroupBroadcast(a1, 3u)), b, c11);
    c12 = fma(vec4f(subgroupBroadcast(a1, 4u)), b, c12);
    c13 = fma(vec4f(subgroupBroadcast(a1, 5u)), b, c13);
    c14 = fma(vec4f(subgroupBroadcast(a1, 6u)), b, c14);
    c15 = fma(vec4f(subgroupBroadcast(a1, 7u)), b, c15);
    c16 = fma(vec4f(subgroupBroadcast(a2, 0u)), b, c16);
    c17 = fma(vec4f(subgroupBroadcast(a2, 1u)), b, c17);
    c18 = fma(vec4f(subgroupBroadcast(a2, 2u)), b, c18);
    c19 = fma(vec4f(subgroupBroadcast(a2, 3u)), b, c19);
    c20 = fma(vec4f(subgroupBroadcast(a2, 4u)), b, c20);
    c21 = fma(vec4f(subgroupBroadcast(a2, 5u)), b, c21);
    c22 = fma(vec4f(subgroupBroadcast(a2, 6u)), b, c22);
    c23 = fma(vec4f(subgroupBroadcast(a2, 7u)), b, c23);
    c24 = fma(vec4f(subgroupBroadcast(a3, 0u)), b, c24);
    c25 = fma(vec4f(subgroupBroadcast(a3, 1u)), b, c25);
    c26 = fma(vec4f(subgroupBroadcast(a3, 2u)), b, c26);
    c27 = fma(vec4f(subgroupBroadcast(a3, 3u)), b, c27);
    c28 = fma(vec4f(subgroupBroadcast(a3, 4u)), b, c28);
    c29 = fma(vec4f(subgroupBroadcast(a3, 5u)), b, c29);
    c30 = fma(vec4f(subgroupBroadcast(a3, 6u)), b, c30);
    c31 = fma(vec4f(subgroupBroadcast(a3, 7u)), b, c31);
  }
  // the stores run in a loop whose trip count the compiler cannot see (zero is 0), as in matmul.wgsl
  var res: array<vec4f, 32>;
  res[0] = c0; res[1] = c1; res[2] = c2; res[3] = c3;
  res[4] = c4; res[5] = c5; res[6] = c6; res[7] = c7;
  res[8] = c8; res[9] = c9; res[10] = c10; res[11] = c11;
  res[12] = c12; res[13] = c13; res[14] = c14; res[15] = c15;
  res[16] = c16; res[17] = c17; res[18] = c18; res[19] = c19;
  res[20] = c20; res[21] = c21; res[22] = c22; res[23] = c23;
  res[24] = c24; res[25] = c25; res[26] = c26; res[27] = c27;
  res[28] = c28; res[29] = c29; res[30] = c30; res[31] = c31;

  if (g >= params.groups) { return; }
  let p = 4u * g - (4u * g / params.nPer) * params.nPer;
  let cBase = z * params.cBatch + (4u * g / params.nPer) * params.cBatch + p;
  for (var r = params.zero; r < 32u; r++) {
    if (m0 + r <= last) {
      let index = (cBase + (m0 + r) * params.nPer) / 4u;
#if ${EPI}
      C[index] = epilogue(m0 + r, res[r], index);
#else
      C[index] = res[r];
#endif
    }
  }
}
