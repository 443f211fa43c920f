// Norm/pool kernel benchmark at ResNet-50 shapes (batch 8, 224x224): batchnorm training
// forward+backward and the eval-mode fusion on the stem's [8, 64, 112, 112], max pooling
// 3x3/2 forward+backward on the same tensor, GeM (learnable p) and global average pooling on
// layer4's [8, 2048, 7, 7] (also batchnorm there), l2normalize on [8, 2048]; a plain copy of
// the stem tensor as the adapter's bandwidth reference.
//
// Usage: node tools/build.mjs && node bench/norm.js [--quick] [--filter SUBSTR]
//   stdout: one JSON object per line {name, shape, median_ms, gb_per_s, reps, bytes}
//   stderr: a readable table at the end.
// gb_per_s counts the minimum DRAM traffic of the kernels (each tensor read/written once per
// pass that touches it), so it is comparable across implementations. Timing: warm-up, then
// the median of several samples, each bounded by `await runtime().sync()`.
// On lavapipe (Mesa's CPU Vulkan) numbers are noisy: other processes share the 2 cores.
import {
  init, runtime, tensor, parameter, batchnorm2d, foldBatchNorm, scaleShift, maxPool2d, gem, globalAvgPool,
  l2normalize, grad, tidy, add, relu, noGrad, copy, shutdown, nonFiniteCounts, ResNet,
} from '../dist/node/index.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const fi = args.indexOf('--filter');
const filter = fi >= 0 ? args[fi + 1] : '';

function randomData(n, seed, positive = false) {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const v = (s / 4294967296) * 2 - 1;
    out[i] = positive ? Math.max(v, 0) : v;
  }
  return out;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

async function timeIt(fn, samples) {
  const rt = runtime();
  fn();
  await rt.sync();
  fn();
  await rt.sync();
  const times = [];
  for (let i = 0; i < samples; i++) {
    const t = performance.now();
    fn();
    await rt.sync();
    times.push(performance.now() - t);
  }
  return times;
}

/** grad() keeps its results out of tidy scopes: dispose them. */
function release(grads) {
  for (const g of grads) g?.dispose();
}

await init();
const prod = (s) => s.reduce((a, b) => a * b, 1);
const BN = [8, 64, 112, 112];
const BN4 = [8, 2048, 7, 7];
const GEM = [8, 2048, 7, 7];
const F = 4; // bytes per float
const nBN = prod(BN);
const nPool = 8 * 64 * 56 * 56;
const nGem = prod(GEM);

const c = BN[1];
const x = parameter(randomData(nBN, 1), BN, 'x');
const dyBN = tensor(randomData(nBN, 2), BN);
const w = parameter(randomData(c, 3).map((v) => 1 + 0.1 * v), [c], 'w');
const b = parameter(randomData(c, 4), [c], 'b');
const rm = tensor(new Float32Array(c), [c]);
const rv = tensor(new Float32Array(c).fill(1), [c]);
const residual = tensor(randomData(nBN, 5), BN);
const { scale, shift } = foldBatchNorm(w, b, rm, rv);
const c4 = BN4[1];
const x4 = parameter(randomData(prod(BN4), 11), BN4, 'x4');
const dy4 = tensor(randomData(prod(BN4), 12), BN4);
const w4 = parameter(randomData(c4, 13).map((v) => 1 + 0.1 * v), [c4], 'w4');
const b4 = parameter(randomData(c4, 14), [c4], 'b4');
const rm4 = tensor(new Float32Array(c4), [c4]);
const rv4 = tensor(new Float32Array(c4).fill(1), [c4]);
const dyPool = tensor(randomData(nPool, 6), [8, 64, 56, 56]);
const xg = parameter(randomData(nGem, 7, true), GEM, 'xg');
const p = parameter([3], [1], 'p');
const dyGem = tensor(randomData(8 * 2048, 8), [8, 2048]);
const xe = parameter(randomData(8 * 2048, 9), [8, 2048], 'e');

const r50Params = new ResNet({ depth: 50, numClasses: 1000 }).parameters();
const r50Values = r50Params.reduce((n, t) => n + t.size, 0);
const cases = [
  // bandwidth reference on the same adapter: a plain copy (read + write once)
  { name: 'reference: copy', shape: BN, bytes: 2 * nBN * F, fn: () => tidy(() => { copy(x); }) },
  // the trainer's weight guard, once per log window: every parameter of a ResNet-50
  { name: 'nonFiniteCounts (ResNet-50 params)', shape: [r50Params.length, r50Values], bytes: r50Values * F, fn: () => tidy(() => { nonFiniteCounts(r50Params); }) },
  // reduce (x) + apply (x -> y) ; backward reduce (x, dy) + apply (x, dy -> dx)
  { name: 'batchnorm2d train fwd', shape: BN, bytes: 3 * nBN * F,
    fn: () => tidy(() => { noGrad(() => batchnorm2d(x, w, b, rm, rv, { training: true })); }) },
  { name: 'batchnorm2d train fwd+bwd', shape: BN, bytes: 8 * nBN * F,
    fn: () => tidy(() => release(grad(batchnorm2d(x, w, b, rm, rv, { training: true }), [x, w, b], dyBN))) },
  { name: 'batchnorm2d eval fwd', shape: BN, bytes: 2 * nBN * F,
    fn: () => tidy(() => { noGrad(() => batchnorm2d(x, w, b, rm, rv, { training: false })); }) },
  { name: 'eval BN+add+ReLU unfused', shape: BN, bytes: 7 * nBN * F,
    fn: () => tidy(() => { noGrad(() => relu(add(batchnorm2d(x, w, b, rm, rv, { training: false }), residual))); }) },
  { name: 'eval BN+add+ReLU fused scaleShift', shape: BN, bytes: 3 * nBN * F,
    fn: () => tidy(() => { noGrad(() => scaleShift(x, scale, shift, { relu: true, residual })); }) },
  { name: 'batchnorm2d train fwd+bwd (layer4)', shape: BN4, bytes: 8 * prod(BN4) * F,
    fn: () => tidy(() => release(grad(batchnorm2d(x4, w4, b4, rm4, rv4, { training: true }), [x4, w4, b4], dy4))) },
  // fwd: read x, write out + index ; bwd: read dy + index (each ~once), write dx
  { name: 'maxPool2d 3x3/2 fwd (no grad)', shape: BN, bytes: (nBN + nPool) * F,
    fn: () => tidy(() => { noGrad(() => maxPool2d(x, { kernel: 3, stride: 2, padding: 1 })); }) },
  { name: 'maxPool2d 3x3/2 fwd+bwd', shape: BN, bytes: (nBN + 2 * nPool + 2 * nPool + nBN) * F,
    fn: () => tidy(() => release(grad(maxPool2d(x, { kernel: 3, stride: 2, padding: 1 }), [x], dyPool))) },
  // fwd: read x ; bwd: read x (twice in-kernel, from cache for 49-value rows), write dx
  { name: 'gem p=3 fwd', shape: GEM, bytes: nGem * F,
    fn: () => tidy(() => { noGrad(() => gem(xg, p)); }) },
  { name: 'gem p=3 fwd+bwd (dx, dp)', shape: GEM, bytes: 3 * nGem * F,
    fn: () => tidy(() => release(grad(gem(xg, p), [xg, p], dyGem))) },
  { name: 'globalAvgPool fwd+bwd', shape: GEM, bytes: 2 * nGem * F,
    fn: () => tidy(() => release(grad(globalAvgPool(xg), [xg], dyGem))) },
  { name: 'l2normalize fwd+bwd', shape: [8, 2048], bytes: 5 * 8 * 2048 * F,
    fn: () => tidy(() => release(grad(l2normalize(xe), [xe], dyGem))) },
].filter((k) => k.name.includes(filter));

const rows = [];
for (const k of cases) {
  const times = await timeIt(k.fn, quick ? 3 : 7);
  const ms = median(times);
  const row = { name: k.name, shape: k.shape, median_ms: +ms.toFixed(3), gb_per_s: +(k.bytes / ms / 1e6).toFixed(3), reps: times.length, bytes: k.bytes,
    adapter: runtime().gpu.adapterInfo?.description ?? runtime().gpu.adapterInfo?.device ?? 'unknown' };
  console.log(JSON.stringify(row));
  rows.push(row);
}
const pad = (s, n) => String(s).padEnd(n);
console.error(`\n${pad('case', 36)} ${pad('shape', 18)} ${pad('median ms', 10)} GB/s`);
for (const r of rows) console.error(`${pad(r.name, 36)} ${pad(JSON.stringify(r.shape), 18)} ${pad(r.median_ms.toFixed(2), 10)} ${r.gb_per_s.toFixed(2)}`);
console.error('(lavapipe runs on the CPU cores shared with other processes: expect noisy figures)');
await shutdown();
