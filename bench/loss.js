// MultiGrain loss benchmark: distance-weighted sampling (DWS) and the margin loss, forward +
// backward, on batches with repeated augmentations (m copies of each image, close together).
//
// Usage: node tools/build.mjs && node bench/loss.js [--quick] [--filter SUBSTR]
//   stdout: one JSON object per line {name, batch, dim, m, triplets, median_ms, min_ms, samples, kernels}
//   stderr: a readable table at the end (plus per-kernel GPU times where timestamps exist).
// Timing: a warm-up call (pipeline compile), then the median over several samples, each ending
// with `await runtime().sync()`; nothing is read back inside the timed region.
import {
  init, runtime, tensor, parameter, shutdown, tidy, backward, noGrad,
  distanceWeightedSampling, marginLoss, disposeTriplets,
} from '../dist/node/index.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const filterAt = args.indexOf('--filter');
const filter = filterAt >= 0 ? args[filterAt + 1] : '';

const configs = [
  { batch: 96, dim: 512, m: 3 },
  { batch: 512, dim: 2048, m: 3 },
];

function gaussian(n, seed) {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  const u = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 0.5) / 4294967296;
  };
  for (let i = 0; i < n; i++) out[i] = Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  return out;
}

/** L2-normalized [B, C] embeddings, the m copies of an image close to each other. */
function raBatch(B, C, m, seed) {
  const x = gaussian(B * C, seed);
  const noise = gaussian(B * C, seed + 1);
  for (let i = 0; i < B; i++) {
    const first = i - (i % m);
    for (let c = 0; c < C; c++) x[i * C + c] = x[first * C + c] + (i === first ? 0 : 0.7 * noise[i * C + c]);
  }
  for (let i = 0; i < B; i++) {
    let s = 0;
    for (let c = 0; c < C; c++) s += x[i * C + c] ** 2;
    const n = Math.sqrt(s) + 1e-6;
    for (let c = 0; c < C; c++) x[i * C + c] /= n;
  }
  return x;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const k = s.length >> 1;
  return s.length % 2 ? s[k] : (s[k - 1] + s[k]) / 2;
};

async function timeIt(fn, samples) {
  const rt = runtime();
  fn();
  await rt.sync();
  const times = [];
  for (let s = 0; s < samples; s++) {
    const t = performance.now();
    fn();
    await rt.sync();
    times.push(performance.now() - t);
  }
  return { median: median(times), min: Math.min(...times), samples };
}

async function kernelTimes(fn) {
  const rt = runtime();
  await rt.sync();
  rt.profiler.start();
  fn();
  return rt.profiler.stop(rt);
}

await init();
const rt = runtime();
const adapter = rt.gpu.adapterInfo ?? rt.gpu.info ?? {};
console.error(`# device: ${[adapter.vendor, adapter.architecture, adapter.device, adapter.description].filter(Boolean).join(' / ') || 'unknown'}${quick ? ' (quick)' : ''}`);

const rows = [];
const breakdowns = [];
let step = 0;
for (const { batch: B, dim: C, m } of configs) {
  const ids = Array.from({ length: B }, (_, i) => Math.floor(i / m));
  const x = parameter(raBatch(B, C, m, 17), [B, C], 'embeddings');
  const beta = parameter([1.2], [1], 'beta');
  const fixed = noGrad(() => distanceWeightedSampling(x, ids, 1));
  const T = fixed.count;
  const clearGrads = () => {
    for (const p of [x, beta]) {
      p.grad?.dispose();
      p.grad = null;
    }
  };
  const cases = [
    ['dws sampling', () => disposeTriplets(distanceWeightedSampling(x, ids, 7, { step: step++ }))],
    // per replica, as `train` does by default: slices of at most 64 rows (8 at batch 512)
    [`dws sampling, ${Math.ceil(B / 64)} replicas`, () => disposeTriplets(distanceWeightedSampling(x, ids, 7, { step: step++, replicas: Math.ceil(B / 64) }))],
    ['margin loss fwd', () => noGrad(() => marginLoss(x, beta, fixed).dispose())],
    ['margin loss fwd+bwd', () => {
      tidy(() => backward(marginLoss(x, beta, fixed)));
      clearGrads();
    }],
    ['dws + margin loss fwd+bwd', () => {
      tidy(() => {
        const tr = distanceWeightedSampling(x, ids, 7, { step: step++ });
        backward(marginLoss(x, beta, tr));
      });
      clearGrads();
    }],
  ];
  for (const [name, fn] of cases) {
    if (!name.includes(filter)) continue;
    const samples = quick ? 5 : B >= 512 ? 9 : 15;
    const timing = await timeIt(fn, samples);
    const kt = await kernelTimes(fn);
    const row = {
      name, batch: B, dim: C, m, triplets: T,
      median_ms: +timing.median.toFixed(3), min_ms: +timing.min.toFixed(3), samples: timing.samples,
      kernels: kt.map((k) => k.kernel).join('+'),
    };
    rows.push(row);
    console.log(JSON.stringify(row));
    if (kt.some((k) => Number.isFinite(k.ms))) breakdowns.push({ name: `${name} B=${B} C=${C}`, kt });
  }
  disposeTriplets(fixed);
  x.dispose();
  beta.dispose();
  clearGrads();
}

const pad = (s, n) => String(s).padEnd(n);
const lpad = (s, n) => String(s).padStart(n);
console.error('');
console.error(`${pad('name', 28)} ${lpad('batch', 6)} ${lpad('dim', 6)} ${lpad('T', 6)} ${lpad('median ms', 10)} ${lpad('min ms', 10)}`);
for (const r of rows) {
  console.error(`${pad(r.name, 28)} ${lpad(r.batch, 6)} ${lpad(r.dim, 6)} ${lpad(r.triplets, 6)} ${lpad(r.median_ms.toFixed(3), 10)} ${lpad(r.min_ms.toFixed(3), 10)}`);
}
for (const b of breakdowns) {
  console.error(`\n# GPU time per kernel, ${b.name}: ${b.kt.map((k) => `${k.kernel} ${k.ms.toFixed(3)} ms (${k.dispatches})`).join(', ')}`);
}
await shutdown();
