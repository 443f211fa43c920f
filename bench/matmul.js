// Matmul benchmark: square sizes, ResNet-50 (batch 8, 224x224) convolution GEMM shapes
// (forward and the transposed products of backward), the batched Winograd products of a
// ResNet-18 b32@64 training step (`--filter wino`), and per-dispatch overhead.
//
// Usage: node tools/build.mjs && node bench/matmul.js [--quick] [--filter SUBSTR] [--variant NAME[,NAME...]]
//   stdout: one JSON object per line {name, shape (MxNxK, batch first), trans (NN/TN/NT/TT), variant
//           (the kernels that ran), median_ms, min_ms, gflops, cpu_ms, samples, calls_per_sample}
//   stderr: a readable table at the end (so `node bench/matmul.js > out.jsonl` keeps the JSON clean)
// --variant runs each shape once per listed kernel variant (compared in the same run);
// without it the launch-time choice (`auto`) is measured. Timing: warm-up (pipeline compile),
// then the median over several samples, each `await runtime().sync()`-bounded. `cpu_ms` is the
// process CPU time per call (lavapipe runs inside the process): on a machine shared with other
// work it shows the kernel's own cost when wall-clock medians are inflated by contention.
import { init, runtime, tensor, matmulRaw, addScalar, shutdown } from '../dist/node/index.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const argValue = (flag) => {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
};
const filter = argValue('--filter') ?? '';
const variants = (argValue('--variant') ?? 'auto').split(',');

/** M x N x K (batch), op(A) is M x K, op(B) is K x N. */
const B8 = 8;
const cases = [];
const square = quick ? [256, 512, 1024] : [256, 512, 1024, 2048];
for (const s of square) cases.push({ name: `square ${s}`, M: s, N: s, K: s });
// transposed operands at 1024 (the backward passes use them)
for (const [transA, transB] of [[true, false], [false, true], [true, true]]) {
  cases.push({ name: `square 1024 ${transA ? 'A^T' : 'A'}${transB ? ' B^T' : ' B'}`, M: 1024, N: 1024, K: 1024, transA, transB });
}
// ResNet-50 convolutions as GEMMs at batch 8: out[Cout, N*H*W] = W[Cout, Cin*kh*kw] · cols.
// Backward: dW = dOut · colsᵀ (transB, K = N*H*W), dCols = Wᵀ · dOut (transA).
const convs = [
  ['conv1 7x7/2', 64, 112, 3 * 49],
  ['layer1 1x1 64->64', 64, 56, 64],
  ['layer1 3x3 64', 64, 56, 576],
  ['layer1 1x1 64->256', 256, 56, 64],
  ['layer1 1x1 256->64', 64, 56, 256],
  ['layer2 3x3 128', 128, 28, 1152],
  ['layer2 1x1 128->512', 512, 28, 128],
  ['layer3 3x3 256', 256, 14, 2304],
  ['layer3 1x1 1024->256', 256, 14, 1024],
  ['layer4 3x3 512', 512, 7, 4608],
  ['layer4 1x1 512->2048', 2048, 7, 512],
  ['layer4 1x1 2048->512', 512, 7, 2048],
];
const quickConvs = new Set(['layer1 1x1 64->64', 'layer1 3x3 64', 'layer3 3x3 256', 'layer4 1x1 512->2048']);
for (const [name, cout, hw, k] of convs) {
  if (quick && !quickConvs.has(name)) continue;
  const n = B8 * hw * hw;
  cases.push({ name: `${name} fwd`, M: cout, N: n, K: k });
  if (quick && name !== 'layer1 3x3 64') continue;
  cases.push({ name: `${name} dW (B^T)`, M: cout, N: k, K: n, transB: true });
  cases.push({ name: `${name} dX (A^T)`, M: k, N: n, K: cout, transA: true });
}
// The same convolutions as src/engine/ops/conv2d-gemm.ts issues them: one product per image,
// batched (weights broadcast): fwd [Cout, K] x [8, K, HW], dX [Cout, K]ᵀ x [8, Cout, HW],
// dW [8, Cout, HW] x [8, K, HW]ᵀ (summed over images afterwards).
for (const [name, cout, hw, k] of convs) {
  if (!['layer1 3x3 64', 'layer3 3x3 256', 'layer4 1x1 512->2048'].includes(name) || (quick && name !== 'layer1 3x3 64')) continue;
  const n = hw * hw;
  cases.push({ name: `${name} fwd, per image`, M: cout, N: n, K: k, batch: B8, aBatch: 1 });
  cases.push({ name: `${name} dX (A^T), per image`, M: k, N: n, K: cout, batch: B8, aBatch: 1, transA: true });
  cases.push({ name: `${name} dW (B^T), per image`, M: cout, N: k, K: n, batch: B8, transB: true });
}
// The batched products of the Winograd convolutions of a ResNet-18 training step at b32@64
// (src/engine/kernels/conv2d/winograd.ts; t² products per convolution): forward / input gradient channel-major
// (layers 1-2) and tile-major (layers 3-4: 32 tiles), and the weight gradients' dM · Vᵀ.
for (const [name, batch, M, N, K] of [
  ['wino l1 F4 fwd', 36, 64, 512, 64], ['wino l2 F4 fwd', 36, 128, 128, 128],
  ['wino l3 F4 fwd tile-major', 36, 32, 256, 256], ['wino l4 F2 fwd tile-major', 16, 32, 512, 512],
  ['wino l1 F4 dW', 36, 64, 64, 512], ['wino l3 F4 dW', 36, 256, 256, 32], ['wino l4 F2 dW', 16, 512, 512, 32],
]) {
  if (quick && !name.startsWith('wino l1')) continue;
  cases.push({ name, M, N, K, batch });
}
// fc: x[8, 2048] · W[1000, 2048]ᵀ; backward dX = dY · W, dW = dYᵀ · x.
cases.push({ name: 'fc fwd (B^T)', M: 8, N: 1000, K: 2048, transB: true });
cases.push({ name: 'fc dX', M: 8, N: 2048, K: 1000 });
cases.push({ name: 'fc dW (A^T)', M: 1000, N: 2048, K: 8, transA: true });
// Batched with broadcast (attention-like sizes) and an odd, unaligned shape.
cases.push({ name: 'batched 16x(128x128x64)', M: 128, N: 128, K: 64, batch: 16 });
cases.push({ name: 'batched bcast B 16x(256x64x256)', M: 256, N: 64, K: 256, batch: 16, bBatch: 1 });
cases.push({ name: 'unaligned 1023x1001x999', M: 1023, N: 1001, K: 999 });

function randomData(n, seed) {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 4294967296) * 2 - 1;
  }
  return out;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

async function timeIt(fn, { targetMs, maxSamples, minSamples }) {
  const rt = runtime();
  // warm-up: compiles the pipeline and touches the buffers
  let t = performance.now();
  fn();
  await rt.sync();
  const once = performance.now() - t;
  // several calls per sample for short kernels, so submit/wait latency does not dominate
  const inner = Math.max(1, Math.min(64, Math.floor(20 / Math.max(once, 1e-3))));
  const samples = Math.max(minSamples, Math.min(maxSamples, Math.ceil(targetMs / Math.max(once * inner, 1e-3))));
  const times = [];
  const cpu = [];
  for (let s = 0; s < samples; s++) {
    const c0 = process.cpuUsage();
    t = performance.now();
    for (let i = 0; i < inner; i++) fn();
    await rt.sync();
    times.push((performance.now() - t) / inner);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000 / inner);
  }
  return { median: median(times), min: Math.min(...times), cpu: median(cpu), samples, inner };
}

/** The kernel names one call dispatches (from the profiler's per-kernel counts). */
async function kernelsRun(fn) {
  const rt = runtime();
  await rt.sync();
  rt.profiler.start();
  fn();
  const times = await rt.profiler.stop(rt);
  return times.map((t) => t.kernel).sort().join('+');
}

const rows = [];
function report(row) {
  rows.push(row);
  console.log(JSON.stringify(row));
}

await init();
const rt = runtime();
const adapter = rt.gpu.adapterInfo ?? rt.gpu.info ?? {};
console.error(`# device: ${[adapter.vendor, adapter.architecture, adapter.device, adapter.description].filter(Boolean).join(' / ') || 'unknown'}${quick ? ' (quick)' : ''}`);
const budget = quick ? { targetMs: 600, maxSamples: 5, minSamples: 3 } : { targetMs: 2500, maxSamples: 15, minSamples: 3 };

for (const c of cases) {
  if (!c.name.includes(filter)) continue;
  const batch = c.batch ?? 1;
  const aBatch = c.aBatch ?? batch;
  const bBatch = c.bBatch ?? batch;
  const aShape2 = c.transA ? [c.K, c.M] : [c.M, c.K];
  const bShape2 = c.transB ? [c.N, c.K] : [c.K, c.N];
  const aShape = batch > 1 ? [aBatch, ...aShape2] : aShape2;
  const bShape = batch > 1 ? [bBatch, ...bShape2] : bShape2;
  const a = tensor(randomData(aShape.reduce((x, y) => x * y, 1), 1), aShape);
  const b = tensor(randomData(bShape.reduce((x, y) => x * y, 1), 2), bShape);
  const flop = 2 * batch * c.M * c.N * c.K;
  for (const variant of variants) {
    const run = () => matmulRaw(a, b, !!c.transA, !!c.transB, undefined, { variant: variant === 'auto' ? undefined : variant }).dispose();
    let chosen;
    try {
      chosen = await kernelsRun(run);
    } catch (err) {
      if (variant !== 'auto' && /needs/.test(err.message)) continue; // a forced variant that does not fit this shape
      throw err;
    }
    const big = flop > 8e9;
    const timing = await timeIt(run, big ? { targetMs: 0, maxSamples: 3, minSamples: quick ? 1 : 3 } : budget);
    report({
      name: `matmul ${c.name}`,
      shape: `${batch > 1 ? `${batch}x` : ''}${c.M}x${c.N}x${c.K}`,
      trans: `${c.transA ? 'T' : 'N'}${c.transB ? 'T' : 'N'}`,
      variant: chosen,
      median_ms: +timing.median.toFixed(3),
      min_ms: +timing.min.toFixed(3),
      gflops: +(flop / timing.median / 1e6).toFixed(2),
      cpu_ms: +timing.cpu.toFixed(3),
      samples: timing.samples,
      calls_per_sample: timing.inner,
    });
  }
  a.dispose();
  b.dispose();
}

// Per-dispatch overhead: many tiny elementwise dispatches, one sync at the end.
if ('dispatch overhead'.includes(filter) || filter === '') {
  const x = tensor(randomData(16, 3), [16]);
  const n = quick ? 300 : 1000;
  const times = [];
  for (let r = 0; r < (quick ? 3 : 7); r++) {
    const t = performance.now();
    for (let i = 0; i < n; i++) addScalar(x, 1).dispose();
    await rt.sync();
    times.push((performance.now() - t) / n);
  }
  report({ name: `dispatch overhead (${n} x addScalar[16])`, shape: '16', trans: '-', variant: 'elementwise', median_ms: +median(times.slice(1)).toFixed(4), min_ms: +Math.min(...times).toFixed(4), gflops: 0, samples: times.length - 1, calls_per_sample: n });
  const syncTimes = [];
  for (let r = 0; r < 20; r++) {
    const t = performance.now();
    addScalar(x, 1).dispose();
    await rt.sync();
    syncTimes.push(performance.now() - t);
  }
  report({ name: 'one dispatch + sync round trip', shape: '16', trans: '-', variant: 'elementwise', median_ms: +median(syncTimes).toFixed(4), min_ms: +Math.min(...syncTimes).toFixed(4), gflops: 0, samples: 20, calls_per_sample: 1 });
  x.dispose();
}

// Readable table.
const pad = (s, n) => String(s).padEnd(n);
const lpad = (s, n) => String(s).padStart(n);
console.error('');
console.error(`${pad('name', 44)} ${pad('shape MxNxK', 20)} ${pad('op', 3)} ${pad('kernel', 20)} ${lpad('median ms', 10)} ${lpad('GFLOP/s', 8)} ${lpad('cpu ms', 9)}`);
for (const r of rows) {
  const ms = (v) => v.toFixed(v < 1 ? 4 : 2);
  console.error(`${pad(r.name, 44)} ${pad(r.shape, 20)} ${pad(r.trans, 3)} ${pad(r.variant, 20)} ${lpad(ms(r.median_ms), 10)} ${lpad(r.gflops ? r.gflops.toFixed(2) : '-', 8)} ${lpad(r.cpu_ms === undefined ? '-' : ms(r.cpu_ms), 9)}`);
}
await shutdown();
