// Running top-K of a block of scores, one workgroup per query row, entirely in workgroup memory.
// best{Scores,Ids} [rows, K] hold each row's best K so far, sorted (score descending, ties by
// lower id); this pass merges the chunk scores [rows, cols] into them (column c = database id
// offset + c). K is a power of two (<= S / 2); padding is (-inf, PAD_ID), which loses to every
// real entry, -inf scores included.
//
// Why bitonic: it is a sorting network, so every step is the same for every invocation (no
// data-dependent control flow around the barriers), and ties resolve by id, so the result is
// deterministic. Each tile of S - K candidates is sorted into runs of K (the running best K is
// run 0), then pairs of runs are cut to their best K (max(A[i], B[K-1-i]) of two descending
// runs is a bitonic sequence holding the best K of both) and merged, until one run is left.
// Bindings: scores (f32), bestScores (f32, read_write), bestIds (i32, read_write).

const S: u32 = 2048u;
const HALF: u32 = 1024u;
const PAD_ID: i32 = 2147483647;

var<workgroup> vs: array<f32, 2048>;
var<workgroup> vi: array<i32, 2048>;

// Whether slot a ranks before slot b.
fn better(a: u32, b: u32) -> bool {
  return vs[a] > vs[b] || (vs[a] == vs[b] && vi[a] < vi[b]);
}

// Orders the pair (i, p), i < p: the better first when desc, else last.
fn exchange(i: u32, p: u32, desc: bool) {
  let wrong = select(better(i, p), better(p, i), desc);
  if (wrong) {
    let s = vs[i];
    vs[i] = vs[p];
    vs[p] = s;
    let d = vi[i];
    vi[i] = vi[p];
    vi[p] = d;
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) t: u32) {
  let r = workgroupIndex(wid, nwg);
  if (r >= params.rows) { return; }
  let K = params.K;
  var negBits = 0xff800000u; // a var: -inf is no constant expression in WGSL
  let negInf = bitcast<f32>(negBits);
  for (var i = t; i < K; i += WORKGROUP_SIZE) {
    if (params.fresh != 0u) {
      vs[i] = negInf;
      vi[i] = PAD_ID;
    } else {
      vs[i] = bestScores[r * K + i];
      vi[i] = bestIds[r * K + i];
    }
  }
  let tile = S - K;
  let rowBase = r * params.cols;
  for (var c0 = 0u; c0 < params.cols; c0 += tile) {
    for (var i = t; i < tile; i += WORKGROUP_SIZE) {
      let c = c0 + i;
      if (c < params.cols) {
        vs[K + i] = scores[rowBase + c];
        vi[K + i] = i32(params.offset + c);
      } else {
        vs[K + i] = negInf;
        vi[K + i] = PAD_ID;
      }
    }
    workgroupBarrier();
    // Sort every run of K descending (below K, sub-runs alternate to form bitonic sequences).
    for (var size = 2u; size <= K; size <<= 1u) {
      for (var stride = size >> 1u; stride > 0u; stride >>= 1u) {
        for (var j = t; j < HALF; j += WORKGROUP_SIZE) {
          let i = 2u * j - (j & (stride - 1u));
          exchange(i, i + stride, size == K || (i & size) == 0u);
        }
        workgroupBarrier();
      }
    }
    // Halve the runs until one is left: runs start every `gap` slots.
    for (var gap = K; gap < S; gap <<= 1u) {
      let pairs = S / (2u * gap);
      for (var j = t; j < pairs * K; j += WORKGROUP_SIZE) {
        let base = (j / K) * 2u * gap;
        let i = j % K;
        let a = base + i;
        let b = base + gap + K - 1u - i;
        if (better(b, a)) {
          vs[a] = vs[b];
          vi[a] = vi[b];
        }
      }
      workgroupBarrier();
      let halfK = K >> 1u;
      for (var stride = halfK; stride > 0u; stride >>= 1u) {
        for (var j = t; j < pairs * halfK; j += WORKGROUP_SIZE) {
          let jj = j % halfK;
          let i = (j / halfK) * 2u * gap + 2u * jj - (jj & (stride - 1u));
          exchange(i, i + stride, true);
        }
        workgroupBarrier();
      }
    }
  }
  for (var i = t; i < K; i += WORKGROUP_SIZE) {
    bestScores[r * K + i] = vs[i];
    bestIds[r * K + i] = vi[i];
  }
}
