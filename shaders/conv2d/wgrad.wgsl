// Weight gradient of a convolution as an implicit GEMM with split-K:
//   dW[co, k'] = sum_r dy[n, co, oh, ow] * x[n, ci, oh*s - p + kh*d, ow*s - p + kw*d]
// rows = output channels (per group), cols k' = (ci, kh, kw) (the PyTorch weight layout
// [Cout, Cin/groups, kh, kw] read as [Cout, K']), reduction r = (n, oh, ow) of length N*OH*OW.
// The reduction is cut into `splits` chunks of rPerSplit (wid.z); chunk s writes its partial
// sums to part[s, group, row, col] and wgrad_reduce.wgsl adds the chunks (with one chunk
// the kernel writes dW directly). Groups share grid dimension y with the row blocks.
//
// Schedules as in gemm.wgsl: TILED (64x64 tile, r in steps of 16 through workgroup memory,
// 4x4 per thread, 256 threads) for GPUs; DIRECT (no workgroup memory or barriers, R rows x
// 4*CG columns per thread, COLT column threads x 64/COLT row threads) for CPU adapters, with
// SUBGROUP as in gemm.wgsl: the 8 lanes of a subgroup share their R rows of dy by
// subgroupBroadcast (R / 8 loads of dy per step instead of R).

// Bindings: X (the input), DY (the output gradient), OUT (dW, or the partial sums).

fn store(split: u32, grp: u32, row: u32, col: u32, v: f32) {
  if (row < params.M && col < params.NCOL) {
    OUT[split * params.outSplit + grp * params.outGroup + row * params.NCOL + col] = v;
  }
}

#if ${TILED}
// ------------------------------------------------------------------------------- TILED
const BM = 64u;
const BN = 64u;
const TK = 16u;
// A tile rows padded to 17 vec4 (bank-conflict-free transposing stores).
var<workgroup> As: array<vec4f, 272>; // [r][m / 4], TK x (BM + 4)
var<workgroup> Bs: array<vec4f, 272>; // [r][n / 4], rows padded like As

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let split = wid.z;
  let grp = wid.y / params.rowBlocks;
  let m0 = (wid.y - grp * params.rowBlocks) * BM;
  let n0 = wid.x * BN;
  let tid = lid.y * 16u + lid.x;
  let P = params.OH * params.OW;
  let rs = split * params.rPerSplit;
  let re = min(rs + params.rPerSplit, params.RTOT);
  let H = i32(params.H);
  let W = i32(params.W);

  // B tile: this thread loads reduction row bk = tid % 16 (consecutive threads walk the pixels,
  // so the x reads coalesce) of columns bn0 + 16j; the 4 columns' (ci, kh, kw) are fixed.
  let bk = tid % TK;
  let bn0 = tid / TK;
  let taps = params.TH * params.TW;
  var xoffs: array<u32, 4>;
  var khds: array<i32, 4>;
  var kwds: array<i32, 4>;
  var colOk: array<bool, 4>;
  for (var j = 0u; j < 4u; j++) {
    let col = n0 + bn0 + 16u * j;
    colOk[j] = col < params.NCOL;
    let bc = min(col, params.NCOL - 1u);
    let ci = bc / taps;
    let t = bc - ci * taps;
    let kh = t / params.TW;
    let kw = t - kh * params.TW;
    khds[j] = i32(kh) * params.dilH - params.padH;
    kwds[j] = i32(kw) * params.dilW - params.padW;
    xoffs[j] = grp * params.xGroup + ci * params.H * params.W;
  }
  let ak = tid % TK;
  let am0 = tid / TK;

  var acc: array<vec4f, 4>;
  for (var r0 = rs; r0 < re; r0 += TK) {
    let ra = r0 + ak;
    let na = ra / P;
    let pa = ra - na * P;
    let abase = na * params.dyImg + grp * params.dyGroup + pa;
    for (var j = 0u; j < 4u; j++) {
      let am = am0 + 16u * j;
      let row = m0 + am;
      var v = 0.0;
      if (row < params.M && ra < re) {
        v = DY[abase + row * P];
      }
      As[ak * 17u + am / 4u][am % 4u] = v;
    }
    // The reduction row of this thread's B loads is ra (bk == ak).
    let oh = pa / params.OW;
    let ow = pa - oh * params.OW;
    let ihs = i32(oh) * params.strideH;
    let iws = i32(ow) * params.strideW;
    let xb = na * params.xImg;
    for (var j = 0u; j < 4u; j++) {
      let bn = bn0 + 16u * j;
      let ih = ihs + khds[j];
      let iw = iws + kwds[j];
      var v = 0.0;
      if (colOk[j] && ra < re && ih >= 0 && ih < H && iw >= 0 && iw < W) {
        v = X[xb + xoffs[j] + u32(ih) * params.W + u32(iw)];
      }
      Bs[bk * 17u + bn / 4u][bn % 4u] = v;
    }
    workgroupBarrier();
    // Constant bound TK on GPUs (unrolled), uniform params.tk (= TK) on CPU adapters.
    for (var k = 0u; k < ${KLOOP}; k++) {
      let a = As[k * 17u + lid.y];
      let b = Bs[k * 17u + lid.x];
      acc[0] = fma(vec4f(a.x), b, acc[0]);
      acc[1] = fma(vec4f(a.y), b, acc[1]);
      acc[2] = fma(vec4f(a.z), b, acc[2]);
      acc[3] = fma(vec4f(a.w), b, acc[3]);
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    for (var e = 0u; e < 4u; e++) {
      store(split, grp, m0 + lid.y * 4u + i, n0 + lid.x * 4u + e, acc[i][e]);
    }
  }
}
#else
// ------------------------------------------------------------------------------- DIRECT
const COLT = ${COLT}u;       // threads along the columns; 64 / COLT thread rows
const RT = WORKGROUP_SIZE / COLT;
const R = ${ROWS}u;
const CG = ${CGROUPS}u;
const NC = ${CGROUPS}u * 4u;

// The reduction state lives in main's function-scope variables, passed to rstep() by pointer
// (after inlining: constant indices, registers; see gemm.wgsl).
struct Walk {
  p: u32,    // pixel oh*OW + ow of the current reduction step within its image
  ow: u32,
  oh: u32,
  iws: i32,  // ow * strideW
  ihs: i32,  // oh * strideH
  xn: u32,   // n * xImg
  dyn: u32,  // n * dyImg
}

/** One reduction step: gather x for this thread's columns, multiply-add every row. */
fn rstep(acc: ptr<function, array<vec4f, ${ROWS}u * ${CGROUPS}u>>, w: ptr<function, Walk>,
         xoff: ptr<function, array<u32, ${CGROUPS}u * 4u>>, khd: ptr<function, array<i32, ${CGROUPS}u * 4u>>,
         kwd: ptr<function, array<i32, ${CGROUPS}u * 4u>>, drow: ptr<function, array<u32, ${ROWS}u>>) {
  let H = params.H;
  let W = params.W;
  let ihs = (*w).ihs;
  let iws = (*w).iws;
  let xn = (*w).xn;
  var b: array<vec4f, ${CGROUPS}u>;
  for (var g = 0u; g < CG; g++) {
    for (var e = 0u; e < 4u; e++) {
      let c = g * 4u + e;
      let ih = ihs + (*khd)[c];
      let iw = iws + (*kwd)[c];
      let ok = u32(ih) < H && u32(iw) < W;
      let v = X[select(0u, xn + (*xoff)[c] + u32(ih) * W + u32(iw), ok)];
      b[g][e] = select(0.0, v, ok);
    }
  }
#if ${SUBGROUP}
  // The 8 lanes of a subgroup share their rows: lane j loads dy of rows j, j + 8, ... and the
  // others read them by subgroupBroadcast (BROADCAST_FMAS, generated by kernels/conv2d/gemm.ts).
  var aw: array<f32, ${ROWS}u / 8u>;
  for (var q = 0u; q < R / 8u; q++) {
    aw[q] = DY[(*w).dyn + (*drow)[q] + (*w).p];
  }
${BROADCAST_FMAS}
#else
  // Scalar dy loads, one per row (vec4 loads kept across 4 steps were slower on lavapipe; docs/conv2d.md).
  for (var i = 0u; i < R; i++) {
    let a = DY[(*w).dyn + (*drow)[i] + (*w).p];
    for (var g = 0u; g < CG; g++) {
      (*acc)[i * CG + g] = fma(vec4f(a), b[g], (*acc)[i * CG + g]);
    }
  }
#endif
  // Advance (n, oh, ow) without branches (selects only).
  let ow = (*w).ow + 1u;
  let wrapW = ow == params.OW;
  let oh = select((*w).oh, (*w).oh + 1u, wrapW);
  let wrapH = oh == params.OH;
  (*w).ow = select(ow, 0u, wrapW);
  (*w).iws = select(iws + params.strideW, 0i, wrapW);
  (*w).oh = select(oh, 0u, wrapH);
  (*w).ihs = select(select(ihs, ihs + params.strideH, wrapW), 0i, wrapH);
  (*w).p = select((*w).p + 1u, 0u, wrapH);
  (*w).xn += select(0u, params.xImg, wrapH);
  (*w).dyn += select(0u, params.dyImg, wrapH);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) li: u32) {
  let split = wid.z;
  let grp = wid.y / params.rowBlocks;
  let lc = li % COLT;
  let row0 = ((wid.y - grp * params.rowBlocks) * RT + li / COLT) * R;
  let colBase = wid.x * (COLT * NC);
  let P = params.OH * params.OW;
  let rs = split * params.rPerSplit;
  let re = min(rs + params.rPerSplit, params.RTOT);
  let taps = params.TH * params.TW;

  // Per column k' = (ci, kh, kw): x offset of its input channel and its tap offsets.
  var xoff: array<u32, ${CGROUPS}u * 4u>;
  var khd: array<i32, ${CGROUPS}u * 4u>;
  var kwd: array<i32, ${CGROUPS}u * 4u>;
  for (var c = 0u; c < NC; c++) {
    let col = min(colBase + ((c / 4u) * COLT + lc) * 4u + c % 4u, params.NCOL - 1u);
    let ci = col / taps;
    let t = col - ci * taps;
    let kh = t / params.TW;
    let kw = t - kh * params.TW;
    xoff[c] = grp * params.xGroup + ci * params.H * params.W;
    khd[c] = i32(kh) * params.dilH - params.padH;
    kwd[c] = i32(kw) * params.dilW - params.padW;
  }
  var drow: array<u32, ${ROWS}u>;
#if ${SUBGROUP}
  for (var q = 0u; q < R / 8u; q++) {
    drow[q] = grp * params.dyGroup + min(row0 + q * 8u + li % 8u, params.M - 1u) * P;
  }
#else
  for (var i = 0u; i < R; i++) {
    drow[i] = grp * params.dyGroup + min(row0 + i, params.M - 1u) * P;
  }
#endif
  let n = rs / P;
  let p = rs - n * P;
  let oh = p / params.OW;
  let ow = p - oh * params.OW;
  var w = Walk(p, ow, oh, i32(ow) * params.strideW, i32(oh) * params.strideH, n * params.xImg, n * params.dyImg);

  var acc: array<vec4f, ${ROWS}u * ${CGROUPS}u>;
  for (var r = rs; r < re; r++) {
    rstep(&acc, &w, &xoff, &khd, &kwd, &drow);
  }

  for (var i = 0u; i < R; i++) {
    for (var g = 0u; g < CG; g++) {
      for (var e = 0u; e < 4u; e++) {
        store(split, grp, row0 + i, colBase + (g * COLT + lc) * 4u + e, acc[i * CG + g][e]);
      }
    }
  }
}
#endif
