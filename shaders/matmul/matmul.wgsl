// Barrier-free register-blocked matmul: C[z] = op(A[z]) * op(B[z]) (+ bias), row-major.
// Operands are addressed through element strides (uniforms), so transposes and batch
// broadcasting (batch stride 0) need no extra pipeline. Each invocation computes RT rows x
// 4*CV columns. The 64 invocations of a workgroup form wx x (64 / wx) (a uniform: 64, 32, 16, 8
// or 4, chosen per shape so that narrow outputs waste little): invocations in a row of wx share
// their RT rows (A values are broadcast) and interleave their CV groups of 4 columns (coalesced
// B loads and C stores on a GPU). RT = 8 or 4 (RT8), CV = 4 or 2 (CV4).
// No workgroup memory and no barriers: on CPU Vulkan (lavapipe, SwiftShader) a barrier is a
// coroutine switch and every memory load runs lane by lane, so speed there is set by loads per
// multiply-add ((RT + 4*CV) per 4*RT*CV) and by keeping the accumulators plain values: the
// K-loop body is written out (no arrays, no inner loops).
// VEC4: B is read as vec4 along N and C written as vec4 (needs N % 4 == 0 and B not
// transposed); otherwise every element is a strided scalar load (any layout or alignment).
// Batches: z = workgroup_id.z, or folded into the columns when A is shared by all of them (one
// wide product instead of many narrow ones, e.g. a convolution's per-image products): column n
// is column n % nPer of batch n / nPer (nPer = N when not folded).
// Dispatch: x = ceil(groups / (wx * CV)), y = ceil(M / (RT * 64 / wx)), z = batches not folded,
// where groups = ceil(N / 4).
// EPI (not with BIAS): a per-row epilogue, as conv2d.wgsl's (a convolution written as this
// product has its channels as rows): v (+ rowBias[m]) (* rowScale[m] + rowShift[m])
// (+ residual[same index as C]) then ReLU, by the bits of params.epi.

// Bindings: A, B, bias (BIAS), C, and with EPI the row epilogue's operands; B, bias and C hold
// VT (vec4f with VEC4, else f32). params.sbk counts VT elements (vec4s with VEC4).
#if ${VEC4}
alias VT = vec4f;
#else
alias VT = f32;
#endif
// EPI: epilogue() comes from the matmul_epilogue snippet (shaders/common/).

#if ${CV4}
const CV = 4u;
#else
const CV = 2u;
#endif
#if ${RT8}
const RT = 8u;
#else
const RT = 4u;
#endif

// Where column group g of op(B) starts (B offsets in B's element type). Groups and columns
// past the end are clamped into range: their values are computed but never stored.
fn colStart(bBase: u32, g: u32) -> vec4u {
#if ${VEC4}
  let n = 4u * min(g, params.groups - 1u);
  let zi = n / params.nPer;
  return vec4u((bBase + zi * params.bBatch + n - zi * params.nPer) / 4u, 0u, 0u, 0u);
#else
  let n = min(vec4u(4u * g) + vec4u(0u, 1u, 2u, 3u), vec4u(params.N - 1u));
  let zi = n / params.nPer;
  return bBase + zi * params.bBatch + (n - zi * params.nPer) * params.sbn;
#endif
}

// Row k of op(B) in the column group starting at `s`.
fn loadB(s: vec4u, k: u32) -> vec4f {
  let o = k * params.sbk;
#if ${VEC4}
  return B[s.x + o];
#else
  return vec4f(B[s.x + o], B[s.y + o], B[s.z + o], B[s.w + o]);
#endif
}

// Writes the 4 columns of group g in row m (bounds-checked; bias added).
fn store(cBase: u32, m: u32, g: u32, v: vec4f) {
  if (m >= params.M || g >= params.groups) { return; }
#if ${VEC4}
  let n = 4u * g;
  let zi = n / params.nPer;
  let p = n - zi * params.nPer;
  let index = (cBase + zi * params.cBatch + m * params.nPer + p) / 4u;
#if ${BIAS}
  C[index] = v + bias[p / 4u];
#elif ${EPI}
  C[index] = epilogue(m, v, index);
#else
  C[index] = v;
#endif
#else
  for (var j = 0u; j < 4u; j++) {
    let n = 4u * g + j;
    if (n < params.N) {
      let zi = n / params.nPer;
      let p = n - zi * params.nPer;
      let index = cBase + zi * params.cBatch + m * params.nPer + p;
#if ${BIAS}
      C[index] = v[j] + bias[p];
#elif ${EPI}
      C[index] = epilogue(m, v[j], index);
#else
      C[index] = v[j];
#endif
    }
  }
#endif
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let wx = params.wx;
  let g0 = wid.x * (wx * CV) + lid.x % wx;
  // no early return here: control flow around the K loop makes CPU Vulkan mask every value update
  let z = wid.z;
  let aBase = z * params.aBatch;
  let bBase = z * params.bBatch;
  let m0 = (wid.y * (WORKGROUP_SIZE / wx) + lid.x / wx) * RT;
  let sak = params.sak;
  let last = params.M - 1u;
  let ra0 = aBase + min(m0 + 0u, last) * params.sam;
  let ra1 = aBase + min(m0 + 1u, last) * params.sam;
  let ra2 = aBase + min(m0 + 2u, last) * params.sam;
  let ra3 = aBase + min(m0 + 3u, last) * params.sam;
#if ${RT8}
  let ra4 = aBase + min(m0 + 4u, last) * params.sam;
  let ra5 = aBase + min(m0 + 5u, last) * params.sam;
  let ra6 = aBase + min(m0 + 6u, last) * params.sam;
  let ra7 = aBase + min(m0 + 7u, last) * params.sam;
#endif
  let s0 = colStart(bBase, g0 + 0u * wx);
  let s1 = colStart(bBase, g0 + 1u * wx);
#if ${CV4}
  let s2 = colStart(bBase, g0 + 2u * wx);
  let s3 = colStart(bBase, g0 + 3u * wx);
#endif
  var c00 = vec4f(0.0); var c01 = vec4f(0.0);
#if ${CV4}
  var c02 = vec4f(0.0); var c03 = vec4f(0.0);
#endif
  var c10 = vec4f(0.0); var c11 = vec4f(0.0);
#if ${CV4}
  var c12 = vec4f(0.0); var c13 = vec4f(0.0);
#endif
  var c20 = vec4f(0.0); var c21 = vec4f(0.0);
#if ${CV4}
  var c22 = vec4f(0.0); var c23 = vec4f(0.0);
#endif
  var c30 = vec4f(0.0); var c31 = vec4f(0.0);
#if ${CV4}
  var c32 = vec4f(0.0); var c33 = vec4f(0.0);
#endif
#if ${RT8}
  var c40 = vec4f(0.0); var c41 = vec4f(0.0);
#if ${CV4}
  var c42 = vec4f(0.0); var c43 = vec4f(0.0);
#endif
  var c50 = vec4f(0.0); var c51 = vec4f(0.0);
#if ${CV4}
  var c52 = vec4f(0.0); var c53 = vec4f(0.0);
#endif
  var c60 = vec4f(0.0); var c61 = vec4f(0.0);
#if ${CV4}
  var c62 = vec4f(0.0); var c63 = vec4f(0.0);
#endif
  var c70 = vec4f(0.0); var c71 = vec4f(0.0);
#if ${CV4}
  var c72 = vec4f(0.0); var c73 = vec4f(0.0);
#endif
#endif
  for (var k = 0u; k < params.K; k++) {
    let ak = k * sak;
    let a0 = vec4f(A[ra0 + ak]);
    let a1 = vec4f(A[ra1 + ak]);
    let a2 = vec4f(A[ra2 + ak]);
    let a3 = vec4f(A[ra3 + ak]);
#if ${RT8}
    let a4 = vec4f(A[ra4 + ak]);
    let a5 = vec4f(A[ra5 + ak]);
    let a6 = vec4f(A[ra6 + ak]);
    let a7 = vec4f(A[ra7 + ak]);
#endif
    let b0 = loadB(s0, k);
    let b1 = loadB(s1, k);
#if ${CV4}
    let b2 = loadB(s2, k);
    let b3 = loadB(s3, k);
#endif
    c00 = fma(a0, b0, c00); c01 = fma(a0, b1, c01);
#if ${CV4}
    c02 = fma(a0, b2, c02); c03 = fma(a0, b3, c03);
#endif
    c10 = fma(a1, b0, c10); c11 = fma(a1, b1, c11);
#if ${CV4}
    c12 = fma(a1, b2, c12); c13 = fma(a1, b3, c13);
#endif
    c20 = fma(a2, b0, c20); c21 = fma(a2, b1, c21);
#if ${CV4}
    c22 = fma(a2, b2, c22); c23 = fma(a2, b3, c23);
#endif
    c30 = fma(a3, b0, c30); c31 = fma(a3, b1, c31);
#if ${CV4}
    c32 = fma(a3, b2, c32); c33 = fma(a3, b3, c33);
#endif
#if ${RT8}
    c40 = fma(a4, b0, c40); c41 = fma(a4, b1, c41);
#if ${CV4}
    c42 = fma(a4, b2, c42); c43 = fma(a4, b3, c43);
#endif
    c50 = fma(a5, b0, c50); c51 = fma(a5, b1, c51);
#if ${CV4}
    c52 = fma(a5, b2, c52); c53 = fma(a5, b3, c53);
#endif
    c60 = fma(a6, b0, c60); c61 = fma(a6, b1, c61);
#if ${CV4}
    c62 = fma(a6, b2, c62); c63 = fma(a6, b3, c63);
#endif
    c70 = fma(a7, b0, c70); c71 = fma(a7, b1, c71);
#if ${CV4}
    c72 = fma(a7, b2, c72); c73 = fma(a7, b3, c73);
#endif
#endif
  }
  // The stores run in a loop whose trip count the compiler cannot see (zero is 0): written out,
  // 32 guarded stores make the pipeline compile several times slower on CPU Vulkan.
  var res: array<vec4f, RT * CV>;
  res[0u * CV] = c00; res[0u * CV + 1u] = c01;
#if ${CV4}
  res[0u * CV + 2u] = c02; res[0u * CV + 3u] = c03;
#endif
  res[1u * CV] = c10; res[1u * CV + 1u] = c11;
#if ${CV4}
  res[1u * CV + 2u] = c12; res[1u * CV + 3u] = c13;
#endif
  res[2u * CV] = c20; res[2u * CV + 1u] = c21;
#if ${CV4}
  res[2u * CV + 2u] = c22; res[2u * CV + 3u] = c23;
#endif
  res[3u * CV] = c30; res[3u * CV + 1u] = c31;
#if ${CV4}
  res[3u * CV + 2u] = c32; res[3u * CV + 3u] = c33;
#endif
#if ${RT8}
  res[4u * CV] = c40; res[4u * CV + 1u] = c41;
#if ${CV4}
  res[4u * CV + 2u] = c42; res[4u * CV + 3u] = c43;
#endif
  res[5u * CV] = c50; res[5u * CV + 1u] = c51;
#if ${CV4}
  res[5u * CV + 2u] = c52; res[5u * CV + 3u] = c53;
#endif
  res[6u * CV] = c60; res[6u * CV + 1u] = c61;
#if ${CV4}
  res[6u * CV + 2u] = c62; res[6u * CV + 3u] = c63;
#endif
  res[7u * CV] = c70; res[7u * CV + 1u] = c71;
#if ${CV4}
  res[7u * CV + 2u] = c72; res[7u * CV + 3u] = c73;
#endif
#endif
  let cBase = z * params.cBatch;
  for (var i = params.zero; i < RT * CV; i++) {
    store(cBase, m0 + i / CV, g0 + (i % CV) * wx, res[i]);
  }
}
