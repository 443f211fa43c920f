// Matmul for CPU adapters with subgroups of 8 lanes (lavapipe): C[z] = op(A[z]) * B[z], B read as
// vec4 along N, row-major C, optional row epilogue (EPI, the matmul_epilogue snippet), no column
// bias (matmul.wgsl does that). Each subgroup computes 32 rows x 32 columns, or x 64 with CG2: lane j
// keeps the 32 rows of its own group of 4 columns (32 vec4 accumulators; CG2: a second group 8
// groups further, 64) and loads only 4 values of A per k (rows j, j+8, j+16, j+24), which the
// other lanes read through subgroupBroadcast. Why: on lavapipe every storage load runs lane by
// lane with its own bounds check (about 15 instructions a lane), so the 8x16-per-lane block of
// matmul.wgsl spends most of its time in its 12 loads per k; here a lane does 5 loads (CG2: 6)
// per k for 128 (256) multiply-adds, and a broadcast is one shuffle. Measured on lavapipe: the
// 32-column form 1.04-1.5x matmul.wgsl's GFLOP/s on the batched Winograd products of ResNet
// training, the 64-column form another 1.2-1.6x where the columns fill it.
// The workgroup's SUBGROUPS * 8 invocations form SUBGROUPS subgroups (consecutive invocations,
// as on lavapipe): params.wx (sy) of them along M and SUBGROUPS / sy along N. Same uniforms,
// batching, strides and column folding (nPer) as matmul.wgsl. Dispatch: x = ceil(groups / (GW *
// SUBGROUPS / sy)), y = ceil(M / (32 * sy)), z = batches not folded, where groups = N / 4 and
// GW = 8 (16 with CG2) groups per subgroup.
// The subgroups extension is enabled by the generated header. Bindings: A (f32), B and C (vec4f),
// and with EPI the row epilogue's operands; params.sbk counts vec4s.
alias VT = vec4f;

#if ${CG2}
const GW = 16u;
#else
const GW = 8u;
#endif
const SGS = ${SUBGROUPS}u;  // subgroups per workgroup: 8, or 4 where 8 would mostly pad (64 x 64 products)

/** Where column group g (clamped into range: computed, never stored) starts in B, of batch n / nPer when folded. */
fn bStart(z: u32, g: u32) -> u32 {
  let n = 4u * min(g, params.groups - 1u);
  let zi = n / params.nPer;
  return (z * params.bBatch + zi * params.bBatch + n - zi * params.nPer) / 4u;
}

/** Stores the 32 rows of column group g (bounds-checked, epilogue applied). */
fn storeGroup(z: u32, m0: u32, g: u32, res: ptr<function, array<vec4f, 32>>) {
  if (g >= params.groups) { return; }
  let last = params.M - 1u;
  let p = 4u * g - (4u * g / params.nPer) * params.nPer;
  let cBase = z * params.cBatch + (4u * g / params.nPer) * params.cBatch + p;
  // a loop whose trip count the compiler cannot see (zero is 0), as in matmul.wgsl: written out,
  // the guarded stores make the pipeline compile several times slower on CPU Vulkan
  for (var r = params.zero; r < 32u; r++) {
    if (m0 + r <= last) {
      let index = (cBase + (m0 + r) * params.nPer) / 4u;
#if ${EPI}
      C[index] = epilogue(m0 + r, (*res)[r], index);
#else
      C[index] = (*res)[r];
#endif
    }
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32, @builtin(subgroup_invocation_id) lane: u32) {
  let sy = params.wx;
  let sx = SGS / sy;
  let s = lid / 8u;
  let m0 = (wid.y * sy + s / sx) * 32u;
  let g = (wid.x * sx + s % sx) * GW + lane;  // this lane's group of 4 columns (CG2: and g + 8)
  let z = wid.z;
  let aBase = z * params.aBatch;
  let last = params.M - 1u;
  let b0 = bStart(z, g);
#if ${CG2}
  let b1 = bStart(z, g + 8u);
#endif
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
#if ${CG2}
  var d0 = vec4f(0.0); var d1 = vec4f(0.0); var d2 = vec4f(0.0); var d3 = vec4f(0.0);
  var d4 = vec4f(0.0); var d5 = vec4f(0.0); var d6 = vec4f(0.0); var d7 = vec4f(0.0);
  var d8 = vec4f(0.0); var d9 = vec4f(0.0); var d10 = vec4f(0.0); var d11 = vec4f(0.0);
  var d12 = vec4f(0.0); var d13 = vec4f(0.0); var d14 = vec4f(0.0); var d15 = vec4f(0.0);
  var d16 = vec4f(0.0); var d17 = vec4f(0.0); var d18 = vec4f(0.0); var d19 = vec4f(0.0);
  var d20 = vec4f(0.0); var d21 = vec4f(0.0); var d22 = vec4f(0.0); var d23 = vec4f(0.0);
  var d24 = vec4f(0.0); var d25 = vec4f(0.0); var d26 = vec4f(0.0); var d27 = vec4f(0.0);
  var d28 = vec4f(0.0); var d29 = vec4f(0.0); var d30 = vec4f(0.0); var d31 = vec4f(0.0);
#endif
  for (var k = 0u; k < params.K; k++) {
    let ak = k * params.sak;
    let a0 = A[ra0 + ak];
    let a1 = A[ra1 + ak];
    let a2 = A[ra2 + ak];
    let a3 = A[ra3 + ak];
    let bk = b0 + k * params.sbk;
    let b = B[bk];
#if ${CG2}
    let e = B[b1 + k * params.sbk];
    { let a = vec4f(subgroupBroadcast(a0, 0u)); c0 = fma(a, b, c0); d0 = fma(a, e, d0); }
    { let a = vec4f(subgroupBroadcast(a0, 1u)); c1 = fma(a, b, c1); d1 = fma(a, e, d1); }
    { let a = vec4f(subgroupBroadcast(a0, 2u)); c2 = fma(a, b, c2); d2 = fma(a, e, d2); }
    { let a = vec4f(subgroupBroadcast(a0, 3u)); c3 = fma(a, b, c3); d3 = fma(a, e, d3); }
    { let a = vec4f(subgroupBroadcast(a0, 4u)); c4 = fma(a, b, c4); d4 = fma(a, e, d4); }
    { let a = vec4f(subgroupBroadcast(a0, 5u)); c5 = fma(a, b, c5); d5 = fma(a, e, d5); }
    { let a = vec4f(subgroupBroadcast(a0, 6u)); c6 = fma(a, b, c6); d6 = fma(a, e, d6); }
    { let a = vec4f(subgroupBroadcast(a0, 7u)); c7 = fma(a, b, c7); d7 = fma(a, e, d7); }
    { let a = vec4f(subgroupBroadcast(a1, 0u)); c8 = fma(a, b, c8); d8 = fma(a, e, d8); }
    { let a = vec4f(subgroupBroadcast(a1, 1u)); c9 = fma(a, b, c9); d9 = fma(a, e, d9); }
    { let a = vec4f(subgroupBroadcast(a1, 2u)); c10 = fma(a, b, c10); d10 = fma(a, e, d10); }
    { let a = vec4f(subgroupBroadcast(a1, 3u)); c11 = fma(a, b, c11); d11 = fma(a, e, d11); }
    { let a = vec4f(subgroupBroadcast(a1, 4u)); c12 = fma(a, b, c12); d12 = fma(a, e, d12); }
    { let a = vec4f(subgroupBroadcast(a1, 5u)); c13 = fma(a, b, c13); d13 = fma(a, e, d13); }
    { let a = vec4f(subgroupBroadcast(a1, 6u)); c14 = fma(a, b, c14); d14 = fma(a, e, d14); }
    { let a = vec4f(subgroupBroadcast(a1, 7u)); c15 = fma(a, b, c15); d15 = fma(a, e, d15); }
    { let a = vec4f(subgroupBroadcast(a2, 0u)); c16 = fma(a, b, c16); d16 = fma(a, e, d16); }
    { let a = vec4f(subgroupBroadcast(a2, 1u)); c17 = fma(a, b, c17); d17 = fma(a, e, d17); }
    { let a = vec4f(subgroupBroadcast(a2, 2u)); c18 = fma(a, b, c18); d18 = fma(a, e, d18); }
    { let a = vec4f(subgroupBroadcast(a2, 3u)); c19 = fma(a, b, c19); d19 = fma(a, e, d19); }
    { let a = vec4f(subgroupBroadcast(a2, 4u)); c20 = fma(a, b, c20); d20 = fma(a, e, d20); }
    { let a = vec4f(subgroupBroadcast(a2, 5u)); c21 = fma(a, b, c21); d21 = fma(a, e, d21); }
    { let a = vec4f(subgroupBroadcast(a2, 6u)); c22 = fma(a, b, c22); d22 = fma(a, e, d22); }
    { let a = vec4f(subgroupBroadcast(a2, 7u)); c23 = fma(a, b, c23); d23 = fma(a, e, d23); }
    { let a = vec4f(subgroupBroadcast(a3, 0u)); c24 = fma(a, b, c24); d24 = fma(a, e, d24); }
    { let a = vec4f(subgroupBroadcast(a3, 1u)); c25 = fma(a, b, c25); d25 = fma(a, e, d25); }
    { let a = vec4f(subgroupBroadcast(a3, 2u)); c26 = fma(a, b, c26); d26 = fma(a, e, d26); }
    { let a = vec4f(subgroupBroadcast(a3, 3u)); c27 = fma(a, b, c27); d27 = fma(a, e, d27); }
    { let a = vec4f(subgroupBroadcast(a3, 4u)); c28 = fma(a, b, c28); d28 = fma(a, e, d28); }
    { let a = vec4f(subgroupBroadcast(a3, 5u)); c29 = fma(a, b, c29); d29 = fma(a, e, d29); }
    { let a = vec4f(subgroupBroadcast(a3, 6u)); c30 = fma(a, b, c30); d30 = fma(a, e, d30); }
    { let a = vec4f(subgroupBroadcast(a3, 7u)); c31 = fma(a, b, c31); d31 = fma(a, e, d31); }
#else
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
#endif
  }
  var res: array<vec4f, 32>;
  res[0] = c0; res[1] = c1; res[2] = c2; res[3] = c3;
  res[4] = c4; res[5] = c5; res[6] = c6; res[7] = c7;
  res[8] = c8; res[9] = c9; res[10] = c10; res[11] = c11;
  res[12] = c12; res[13] = c13; res[14] = c14; res[15] = c15;
  res[16] = c16; res[17] = c17; res[18] = c18; res[19] = c19;
  res[20] = c20; res[21] = c21; res[22] = c22; res[23] = c23;
  res[24] = c24; res[25] = c25; res[26] = c26; res[27] = c27;
  res[28] = c28; res[29] = c29; res[30] = c30; res[31] = c31;
  storeGroup(z, m0, g, &res);
#if ${CG2}
  res[0] = d0; res[1] = d1; res[2] = d2; res[3] = d3;
  res[4] = d4; res[5] = d5; res[6] = d6; res[7] = d7;
  res[8] = d8; res[9] = d9; res[10] = d10; res[11] = d11;
  res[12] = d12; res[13] = d13; res[14] = d14; res[15] = d15;
  res[16] = d16; res[17] = d17; res[18] = d18; res[19] = d19;
  res[20] = d20; res[21] = d21; res[22] = d22; res[23] = d23;
  res[24] = d24; res[25] = d25; res[26] = d26; res[27] = d27;
  res[28] = d28; res[29] = d29; res[30] = d30; res[31] = d31;
  storeGroup(z, m0, g + 8u, &res);
#endif
}
