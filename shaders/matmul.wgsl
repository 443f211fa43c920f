// Batched matrix product C[b] = op(A[b]) * op(B[b]) (+ bias), op = optional transpose.
// A is [M, K] (or [K, M] with TRANS_A), B is [K, N] (or [N, K] with TRANS_B), row-major.
// Tiling: a workgroup of 16x16 threads computes a 64x64 tile of C, each thread a 4x4 block
// held in registers; K advances 16 at a time through workgroup memory.
// Batch strides of 0 broadcast an operand over the batch.

struct Params {
  M: u32, N: u32, K: u32, batch: u32,
  aBatchStride: u32, bBatchStride: u32, cBatchStride: u32, pad0: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
#if ${BIAS}
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> C: array<f32>;
#else
@group(0) @binding(3) var<storage, read_write> C: array<f32>;
#endif

const TILE = 64u;
const TK = 16u;
var<workgroup> As: array<array<f32, 64>, 16>;  // [k][m]
var<workgroup> Bs: array<array<f32, 64>, 16>;  // [k][n]

fn loadA(base: u32, m: u32, k: u32) -> f32 {
  if (m >= params.M || k >= params.K) { return 0.0; }
#if ${TRANS_A}
  return A[base + k * params.M + m];
#else
  return A[base + m * params.K + k];
#endif
}

fn loadB(base: u32, k: u32, n: u32) -> f32 {
  if (k >= params.K || n >= params.N) { return 0.0; }
#if ${TRANS_B}
  return B[base + n * params.K + k];
#else
  return B[base + k * params.N + n];
#endif
}

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let b = wid.z;
  let aBase = b * params.aBatchStride;
  let bBase = b * params.bBatchStride;
  let row0 = wid.y * TILE;
  let col0 = wid.x * TILE;
  let tid = lid.y * 16u + lid.x;
  var acc: array<vec4f, 4>;
  for (var k0 = 0u; k0 < params.K; k0 += TK) {
    // 256 threads load 16x64 elements of each operand: 4 each.
    for (var i = 0u; i < 4u; i++) {
      let e = tid + i * 256u;
#if ${TRANS_A}
      let ak = e / 64u; let am = e % 64u;
#else
      let am = e / 16u; let ak = e % 16u;
#endif
      As[ak][am] = loadA(aBase, row0 + am, k0 + ak);
#if ${TRANS_B}
      let bn = e / 16u; let bk = e % 16u;
#else
      let bk = e / 64u; let bn = e % 64u;
#endif
      Bs[bk][bn] = loadB(bBase, k0 + bk, col0 + bn);
    }
    workgroupBarrier();
    for (var k = 0u; k < TK; k++) {
      let a = vec4f(As[k][lid.y * 4u], As[k][lid.y * 4u + 1u], As[k][lid.y * 4u + 2u], As[k][lid.y * 4u + 3u]);
      let bv = vec4f(Bs[k][lid.x * 4u], Bs[k][lid.x * 4u + 1u], Bs[k][lid.x * 4u + 2u], Bs[k][lid.x * 4u + 3u]);
      acc[0] += a.x * bv;
      acc[1] += a.y * bv;
      acc[2] += a.z * bv;
      acc[3] += a.w * bv;
    }
    workgroupBarrier();
  }
  let cBase = b * params.cBatchStride;
  for (var i = 0u; i < 4u; i++) {
    let r = row0 + lid.y * 4u + i;
    if (r >= params.M) { continue; }
    for (var j = 0u; j < 4u; j++) {
      let c = col0 + lid.x * 4u + j;
      if (c < params.N) {
        var v = acc[i][j];
#if ${BIAS}
        v += bias[c];
#endif
        C[cBase + r * params.N + c] = v;
      }
    }
  }
}
