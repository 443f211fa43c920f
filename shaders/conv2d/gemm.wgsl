// Convolution as an implicit GEMM (no im2col buffer): C[row, col] = sum_k A[row, k] * B[k, col].
//
// One kernel serves the forward pass and each stride phase of the input gradient:
//   forward  rows = output channels (per group), k = (ci, kh, kw), cols = (n, oh, ow);
//            A = the PyTorch weight [Cout, Cin/groups, kh, kw] read as-is as a [Cout, K] matrix,
//            B[k, col] = x[n, ci, oh*s - p + kh*d, ow*s - p + kw*d] (0 outside the image).
//   dgrad    rows = input channels, k = (co, taps of this phase), cols = the input pixels of the
//            phase (ih = ph + s*i, iw = pw + s*j); A = the transposed weight, B = dy at
//            oh = i + c0 - e*t (see kernels/conv2d/gemm.ts), i.e. the same access pattern with stride 1.
// The source pixel of tap (th, tw) for grid position (r, c) is
//   (r*strideH + offH + th*dilH, c*strideW + offW + tw*dilW), read when inside [0, SH) x [0, SW).
// Weight element (row, ch, th, tw) is at aBase + row*aRow + ch*aCh + th*aTH + tw*aTW.
// Output element (n, row, r, c) is at n*outImg + row*outCh + outBase + r*outRow + c*outCol.
// Groups run as wid.z with per-group offsets.
//
// Two schedules (the host picks one per adapter, tests run both):
//  TILED  (GPUs): 64x64 output tile per 256-thread workgroup, K in steps of 16 through
//         workgroup memory (A tile [16][64], B tile [16][64], 8 KiB), 4x4 outputs per thread
//         read as vec4 from workgroup memory, im2col addressing done once per tile element.
//  DIRECT (CPU adapters: lavapipe, SwiftShader run invocations as SIMD lanes and make each
//         barrier a coroutine switch): no workgroup memory or barriers; 64 threads as COLT
//         column threads x 64/COLT row threads, each owning R output rows x 4*CG columns
//         (groups of 4 consecutive columns: vec4 accumulators, column groups interleaved across
//         threads so that neighbouring threads read neighbouring pixels), or with SWAP R
//         consecutive columns x 4*CG rows. POINTWISE (1x1, stride 1, no padding,
//         H*W % 4 == 0, not SWAP) reads 4 source pixels as a vec4 without bounds checks.
//         SUBGROUP (CPU adapters with subgroups of 8 consecutive lanes, COLT % 8 == 0, R % 8 == 0,
//         not SWAP): the 8 lanes of a subgroup have the same weight rows, so each loads R / 8 of
//         them and reads the rest by subgroupBroadcast: R / 8 weight loads per k instead of R
//         (lavapipe runs every load lane by lane, so loads set the speed).
//
// Fused epilogue (forward only, all optional, bits of params.epi): the conv_epilogue snippet
// (shaders/common/conv_epilogue.wgsl); the channel is grp * M + row.

// Bindings: X (the gathered operand: x, or dy for dgrad; vec4 under POINTWISE), Wt (the weight),
// Y (the output) and the epilogue operands bias, scale, shift, residual (common/conv_epilogue).
// X, Wt, Y and residual are stored as ACT: f32, or f16 for half-precision inference (HALF);
// every load converts to f32 and the accumulation stays f32 (the conversions are no-ops in f32).

/** Image n and grid position (r, c) of GEMM column `col`. */
struct Pixel { n: u32, r: u32, c: u32 }

fn pixelOf(col: u32) -> Pixel {
  let P = params.GR * params.GC;
  let n = col / P;
  let p = col - n * P;
  let r = p / params.GC;
  return Pixel(n, r, p - r * params.GC);
}

/** Output offset of column `col` (without the row and group terms). */
fn outOffset(col: u32) -> u32 {
  let q = pixelOf(col);
  return q.n * params.outImg + params.outBase + q.r * params.outRow + q.c * params.outCol;
}

/** Stores one result; `ooff` = outOffset(col), computed once per column. */
fn store(row: u32, col: u32, grp: u32, ooff: u32, acc: f32) {
  if (row < params.M && col < params.NCOL) {
    let index = ooff + grp * params.outGroup + row * params.outCh;
    Y[index] = ${ACT}(epilogue(grp * params.M + row, index, acc));
  }
}

#if ${TILED}
// ------------------------------------------------------------------------------- TILED
const BM = 64u;
const BN = 64u;
const TK = 16u;
// A tile rows are padded to 17 vec4: the transposing stores (consecutive threads walk k) then
// hit different banks.
var<workgroup> As: array<vec4f, 272>; // [k][m / 4], TK x (BM + 4)
var<workgroup> Bs: array<vec4f, 256>; // [k][n / 4], TK x BN

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let grp = wid.z;
  let tid = lid.y * 16u + lid.x;
  let m0 = wid.y * BM;
  let n0 = wid.x * BN;
  let taps = params.TH * params.TW;
  let K = params.KCH * taps;
  let SH = i32(params.SH);
  let SW = i32(params.SW);

  // This thread always loads B-tile column bn (rows bk0 + 4j) and A-tile rows am0 + 16j (column ak).
  let bn = tid % BN;
  let bk0 = tid / BN;
  let bcol = n0 + bn;
  let bcolOk = bcol < params.NCOL;
  let bq = pixelOf(min(bcol, params.NCOL - 1u));
  let ih0 = i32(bq.r) * params.strideH + params.offH;
  let iw0 = i32(bq.c) * params.strideW + params.offW;
  let bbase = bq.n * params.srcImg + grp * params.srcGroup;
  let ak = tid % TK;
  let am0 = tid / TK;
  let abase = params.aBase + grp * params.aGroup;

  var acc: array<vec4f, 4>;
  for (var k0 = 0u; k0 < K; k0 += TK) {
    // A tile: rows m0 + am0 + 16j, column k0 + ak.
    let ka = k0 + ak;
    let cha = ka / taps;
    let ta = ka - cha * taps;
    let tha = ta / params.TW;
    let twa = ta - tha * params.TW;
    let aoff = abase + cha * params.aCh + tha * params.aTH + twa * params.aTW;
    for (var j = 0u; j < 4u; j++) {
      let am = am0 + 16u * j;
      let row = m0 + am;
      var v = 0.0;
      if (row < params.M && ka < K) {
        v = f32(Wt[aoff + row * params.aRow]);
      }
      As[ak * 17u + am / 4u][am % 4u] = v;
    }
    // B tile: rows k0 + bk0 + 4j, column bn.
    for (var j = 0u; j < 4u; j++) {
      let bk = bk0 + 4u * j;
      let kb = k0 + bk;
      let chb = kb / taps;
      let tb = kb - chb * taps;
      let thb = tb / params.TW;
      let twb = tb - thb * params.TW;
      let ih = ih0 + i32(thb) * params.dilH;
      let iw = iw0 + i32(twb) * params.dilW;
      var v = 0.0;
      if (bcolOk && kb < K && ih >= 0 && ih < SH && iw >= 0 && iw < SW) {
        v = f32(X[bbase + chb * params.srcCh + u32(ih) * params.SW + u32(iw)]);
      }
      Bs[bk * 16u + bn / 4u][bn % 4u] = v;
    }
    workgroupBarrier();
    // The bound is the constant TK on GPUs (fully unrolled) and the uniform params.tk (= TK)
    // on CPU adapters, where unrolling only multiplies the shader compile time.
    for (var k = 0u; k < ${KLOOP}; k++) {
      let a = As[k * 17u + lid.y];
      let b = Bs[k * 16u + lid.x];
      acc[0] = fma(vec4f(a.x), b, acc[0]);
      acc[1] = fma(vec4f(a.y), b, acc[1]);
      acc[2] = fma(vec4f(a.z), b, acc[2]);
      acc[3] = fma(vec4f(a.w), b, acc[3]);
    }
    workgroupBarrier();
  }
  var ooff: array<u32, 4>;
  for (var e = 0u; e < 4u; e++) {
    ooff[e] = outOffset(min(n0 + lid.x * 4u + e, params.NCOL - 1u));
  }
  for (var i = 0u; i < 4u; i++) {
    for (var e = 0u; e < 4u; e++) {
      store(m0 + lid.y * 4u + i, n0 + lid.x * 4u + e, grp, ooff[e], acc[i][e]);
    }
  }
}
#else
// ------------------------------------------------------------------------------- DIRECT
const COLT = ${COLT}u;       // threads along the vec4 dimension; 64 / COLT threads along the other
const RT = WORKGROUP_SIZE / COLT;
const R = ${ROWS}u;          // scalar-side elements per thread
const CG = ${CGROUPS}u;      // groups of 4 vec4-side elements per thread
const NC = ${CGROUPS}u * 4u;
// A thread accumulates acc[i * CG + g][e] += a_i * b_(4g+e) over k: R scalars a_i times CG
// vec4s b_g. Normally a = the weight rows (output channels) and b = the gathered source pixels
// (columns); SWAP exchanges them (a = R gathered pixels, b = 4*CG weight rows), so that the
// pixel count per workgroup is R * RT for any R: batch-1 ResNet's 14x14 maps (196 columns)
// then fit a tile of 13 x 16 = 208 instead of padding to 256.
const NG = ${NGATHER}u;      // gathered pixels per thread (4*CG, or R when SWAP)
const NW = ${NWEIGHT}u;      // weight rows per thread (R, or 4*CG when SWAP)

// The k-loop state lives in main's function-scope variables, passed to kstep() by pointer:
// after inlining, every array index is a constant and every value a register. (Module-scope
// `var<private>` state, or control flow inside the loop body, is markedly slower on lavapipe, which
// masks every value update under control flow.)
struct Walk {
  th: u32,   // tap row, column and the channel's source/weight offsets advance with k
  tw: u32,
  hOff: i32, // th * dilH
  wOff: i32, // tw * dilW
  chS: u32,  // ch * srcCh
  chA: u32,  // ch * aCh
}

/** One k step: load this thread's gathered pixels and weight rows, multiply-add every pair. */
fn kstep(acc: ptr<function, array<vec4f, ${ROWS}u * ${CGROUPS}u>>, w: ptr<function, Walk>,
         cbase: ptr<function, array<i32, ${NGATHER}u>>, ihb: ptr<function, array<i32, ${NGATHER}u>>,
         iwb: ptr<function, array<i32, ${NGATHER}u>>, arow: ptr<function, array<u32, ${NWEIGHT}u>>) {
  let SH = params.SH;
  let SW = params.SW;
  let hOff = (*w).hOff;
  let wOff = (*w).wOff;
  let sOff = i32((*w).chS) + hOff * i32(SW) + wOff;
  // Scalar weight loads, one per row (vec4 loads of 4 consecutive k kept across 4 steps were
  // slower on lavapipe; docs/conv2d.md).
  let aOff = (*w).chA + (*w).th * params.aTH + (*w).tw * params.aTW;
  var px: array<f32, ${NGATHER}u>;
#if ${POINTWISE}
  for (var g = 0u; g < NG / 4u; g++) {
    let v = vec4f(X[u32((*cbase)[g * 4u] + sOff) / 4u]);
    px[g * 4u] = v.x;
    px[g * 4u + 1u] = v.y;
    px[g * 4u + 2u] = v.z;
    px[g * 4u + 3u] = v.w;
  }
#else
  for (var c = 0u; c < NG; c++) {
    let ok = u32((*ihb)[c] + hOff) < SH && u32((*iwb)[c] + wOff) < SW;
    let v = f32(X[u32(select(0i, (*cbase)[c] + sOff, ok))]);
    px[c] = select(0.0, v, ok);
  }
#endif
  var b: array<vec4f, ${CGROUPS}u>;
  for (var g = 0u; g < CG; g++) {
#if ${SWAP}
    b[g] = vec4f(f32(Wt[(*arow)[g * 4u] + aOff]), f32(Wt[(*arow)[g * 4u + 1u] + aOff]), f32(Wt[(*arow)[g * 4u + 2u] + aOff]), f32(Wt[(*arow)[g * 4u + 3u] + aOff]));
#else
    b[g] = vec4f(px[g * 4u], px[g * 4u + 1u], px[g * 4u + 2u], px[g * 4u + 3u]);
#endif
  }
#if ${SUBGROUP}
  // The 8 lanes of a subgroup share their weight rows: lane j loads rows j, j + 8, ... and the
  // others read them with subgroupBroadcast (BROADCAST_FMAS, generated by kernels/conv2d/gemm.ts: one
  // broadcast and CG multiply-adds per row, the lane id a constant as WGSL requires).
  var aw: array<f32, ${ROWS}u / 8u>;
  for (var q = 0u; q < R / 8u; q++) {
    aw[q] = f32(Wt[(*arow)[q] + aOff]);
  }
${BROADCAST_FMAS}
#else
  for (var i = 0u; i < R; i++) {
#if ${SWAP}
    let a = px[i];
#else
    let a = f32(Wt[(*arow)[i] + aOff]);
#endif
    for (var g = 0u; g < CG; g++) {
      (*acc)[i * CG + g] = fma(vec4f(a), b[g], (*acc)[i * CG + g]);
    }
  }
#endif
  // Advance (ch, th, tw) without branches (selects only).
#if ${POINTWISE}
  (*w).chS += params.srcCh;
  (*w).chA += params.aCh;
#else
  let tw = (*w).tw + 1u;
  let wrapW = tw == params.TW;
  let th = select((*w).th, (*w).th + 1u, wrapW);
  let wrapH = th == params.TH;
  (*w).tw = select(tw, 0u, wrapW);
  (*w).wOff = select(wOff + params.dilW, 0i, wrapW);
  (*w).th = select(th, 0u, wrapH);
  (*w).hOff = select(select(hOff, hOff + params.dilH, wrapW), 0i, wrapH);
  (*w).chS += select(0u, params.srcCh, wrapH);
  (*w).chA += select(0u, params.aCh, wrapH);
#endif
}

/** Pixel (GEMM column) of this thread's gathered element c. */
fn gatherCol(colBase: u32, lc: u32, c: u32) -> u32 {
#if ${SWAP}
  return colBase + c;
#else
  return colBase + ((c / 4u) * COLT + lc) * 4u + c % 4u;
#endif
}

/** Weight row (output channel) of this thread's element j. */
fn weightRow(rowBase: u32, lc: u32, j: u32) -> u32 {
#if ${SWAP}
  return rowBase + ((j / 4u) * COLT + lc) * 4u + j % 4u;
#else
  return rowBase + j;
#endif
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) li: u32) {
  let grp = wid.z;
  let lc = li % COLT;
  let lr = li / COLT;
  // Thread (lr, lc)'s gathered pixels (GEMM columns) and weight rows (GEMM rows): the vec4 side
  // is interleaved across the COLT threads (element (g, e) at base + (g*COLT + lc)*4 + e), the
  // scalar side is R consecutive elements per thread.
#if ${SWAP}
  let colBase = (wid.x * RT + lr) * R;
  let rowBase = wid.y * (COLT * NC);
#else
  let colBase = wid.x * (COLT * NC);
  let rowBase = (wid.y * RT + lr) * R;
#endif

  // Per gathered pixel: source offset of the window origin (may point before the image), its
  // row and column, and the output offset.
  var cbase: array<i32, ${NGATHER}u>;
  var ihb: array<i32, ${NGATHER}u>;
  var iwb: array<i32, ${NGATHER}u>;
  var ooff: array<u32, ${NGATHER}u>;
  for (var c = 0u; c < NG; c++) {
    let col = min(gatherCol(colBase, lc, c), params.NCOL - 1u);
    let q = pixelOf(col);
    let ih = i32(q.r) * params.strideH + params.offH;
    let iw = i32(q.c) * params.strideW + params.offW;
    ihb[c] = ih;
    iwb[c] = iw;
    cbase[c] = i32(q.n * params.srcImg + grp * params.srcGroup) + ih * i32(params.SW) + iw;
    ooff[c] = outOffset(col);
  }
  var arow: array<u32, ${NWEIGHT}u>;
#if ${SUBGROUP}
  // this lane's share of the weight rows: j = q * 8 + lane (see kstep)
  for (var q = 0u; q < R / 8u; q++) {
    arow[q] = params.aBase + grp * params.aGroup + min(weightRow(rowBase, lc, q * 8u + li % 8u), params.M - 1u) * params.aRow;
  }
#else
  for (var j = 0u; j < NW; j++) {
    arow[j] = params.aBase + grp * params.aGroup + min(weightRow(rowBase, lc, j), params.M - 1u) * params.aRow;
  }
#endif

  var acc: array<vec4f, ${ROWS}u * ${CGROUPS}u>;
  var w = Walk(0u, 0u, 0i, 0i, 0u, 0u);
  let K = params.KCH * params.TH * params.TW;
  for (var k = 0u; k < K; k++) {
    kstep(&acc, &w, &cbase, &ihb, &iwb, &arow);
  }

  for (var i = 0u; i < R; i++) {
    for (var g = 0u; g < CG; g++) {
      for (var e = 0u; e < 4u; e++) {
#if ${SWAP}
        store(weightRow(rowBase, lc, g * 4u + e), gatherCol(colBase, lc, i), grp, ooff[i], acc[i * CG + g][e]);
#else
        store(weightRow(rowBase, lc, i), gatherCol(colBase, lc, g * 4u + e), grp, ooff[g * 4u + e], acc[i * CG + g][e]);
#endif
      }
    }
  }
}
#endif
