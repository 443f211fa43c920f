// ResNet benchmark: inference latency/throughput and full training steps (forward, backward,
// SGD), with a per-kernel time breakdown of one training step and the pool's peak memory.
// Prints one JSON object per line, then a readable table.
//
//   node bench/resnet.js                                   the standard set
//   node bench/resnet.js --model resnet50 --batch 1 --size 224 --mode infer --steps 3
//   node bench/resnet.js --quick                           small cases only (fast on CPU Vulkan)
//   node bench/resnet.js --no-tfjs                         without the TensorFlow.js comparison
//   node bench/resnet.js --winograd never                  3x3 convolutions without Winograd (auto|always|never)
//   node bench/resnet.js --no-subgroup                      matmuls and direct convs without subgroup sharing (lavapipe)
//   node bench/resnet.js --no-dedicated                    grouped and depthwise convolutions on the GEMM (their
//                                                          kernels off: tune({ convDepthwise: false }))
//   node bench/resnet.js --by-shape ...                    the breakdown per kernel and problem shape (top 40)
//   node bench/resnet.js --precision f32                   inference in f32 only (default 'both': f32, and f16
//                                                          where the adapter has shader-f16; 'f16': f16 only)
//   node bench/resnet.js --json rows.json                  also writes the rows as one JSON array (atomically)
//   node bench/resnet.js --model senet154|pnasnet5large|nasnetamobile
//                                                          MultiGrain on the other trunks (GeM, classifier):
//                                                          inference at the published scale (400 / 500 / 350)
//                                                          batch 1, unless --size / --batch / --mode say otherwise
//
// The other trunks have no TensorFlow.js counterpart here (bench/tfjs-resnet.js builds ResNets;
// their cells would be a second implementation of each net), so their rows have no tfjs column.
//
// Where the devDependencies @tensorflow/tfjs-core and @tensorflow/tfjs-backend-webgpu are
// installed, every case also runs in TensorFlow.js's WebGPU backend on the same adapter
// (bench/tfjs-resnet.js) and the row gets `tfjs_ms` and `speedup_vs_tfjs`.
//
// Run `node tools/build.mjs` first. On lavapipe (CPU Vulkan) the figures are CPU figures.
import { parseArgs } from 'node:util';
import * as mg from '../dist/node/index.js';
import { loadTfjs, tfjsCase } from './tfjs-resnet.js';
import { writeJsonAtomic } from './json-out.js';

const { values: flags } = parseArgs({
  options: {
    model: { type: 'string' }, batch: { type: 'string' }, size: { type: 'string' },
    mode: { type: 'string' }, steps: { type: 'string' }, width: { type: 'string' },
    quick: { type: 'boolean' }, breakdown: { type: 'boolean' }, 'no-tfjs': { type: 'boolean' },
    winograd: { type: 'string' }, 'by-shape': { type: 'boolean' }, 'no-subgroup': { type: 'boolean' }, 'no-dedicated': { type: 'boolean' },
    precision: { type: 'string', default: 'both' }, json: { type: 'string' },
  },
});
if (!['both', 'f32', 'f16'].includes(flags.precision)) throw new Error(`--precision must be both, f32 or f16, got ${flags.precision}`);

const STANDARD = [
  { model: 'resnet50', batch: 1, size: 224, mode: 'infer' },
  { model: 'resnet50', batch: 8, size: 224, mode: 'infer' },
  { model: 'resnet50', batch: 8, size: 224, mode: 'train' },
  { model: 'resnet50', batch: 32, size: 64, mode: 'train' },
  { model: 'resnet18', batch: 1, size: 224, mode: 'infer' },
  { model: 'resnet18', batch: 8, size: 224, mode: 'infer' },
  { model: 'resnet18', batch: 8, size: 224, mode: 'train' },
  { model: 'resnet18', batch: 32, size: 64, mode: 'train' },
];
const QUICK = [
  { model: 'resnet18', batch: 1, size: 64, mode: 'infer' },
  { model: 'resnet18', batch: 32, size: 64, mode: 'train' },
  { model: 'resnet50', batch: 1, size: 224, mode: 'infer' },
];

/** The published evaluation scale of the other trunks' MultiGrain models. */
const TRUNK_SCALES = { senet154: 400, pnasnet5large: 500, nasnetamobile: 350 };

function cases() {
  if (flags.model || flags.batch || flags.size || flags.mode) {
    const model = flags.model ?? 'resnet50';
    return [{
      model, batch: Number(flags.batch ?? 1), size: Number(flags.size ?? TRUNK_SCALES[model] ?? 224), mode: flags.mode ?? 'infer',
    }];
  }
  return flags.quick ? QUICK : STANDARD;
}

function stepsOf(c) {
  return Number(flags.steps ?? (c.mode === 'train' ? 2 : 3));
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function runCase(c) {
  const rt = mg.runtime();
  const trunk = c.model in TRUNK_SCALES;
  const model = trunk
    ? new mg.MultiGrain({ backbone: c.model, numClasses: 1000, poolingExponent: 3 })
    : new mg.ResNet({ depth: Number(c.model.replace('resnet', '')), numClasses: 1000, baseWidth: Number(flags.width ?? 64) });
  const logitsOf = (out) => (trunk ? out.logits : out);
  if (c.precision === 'f16') model.setPrecision('f16');
  const x = mg.keep(mg.tensor(new Float32Array(c.batch * 3 * c.size * c.size).map((_, i) => Math.sin(i)), [c.batch, 3, c.size, c.size]));
  const labels = mg.keep(mg.tensor(Array.from({ length: c.batch }, (_, i) => i % 1000), [c.batch], 'i32'));
  const opt = new mg.SGD([{ params: model.parameters(), lr: 0.01, momentum: 0.9, weightDecay: 1e-4 }]);
  const step = c.mode === 'train'
    ? () => {
      model.train();
      mg.tidy(() => mg.backward(mg.crossEntropy(logitsOf(model.forward(x)), labels)));
      opt.step();
      opt.zeroGrad();
    }
    : () => {
      model.eval();
      mg.tidy(() => mg.noGrad(() => logitsOf(model.forward(x)))).dispose(); // tidy hands back its result
    };
  const steps = stepsOf(c);
  step(); // warm-up: compiles pipelines, fills the pool
  await rt.sync();
  const created = rt.pool.getStats().buffersCreated;
  const times = [];
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    step();
    await rt.sync();
    times.push(performance.now() - t0);
  }
  const stats = rt.pool.getStats();
  const ms = median(times);
  const result = {
    name: `${c.model}-${c.mode}-b${c.batch}-${c.size}${c.precision === 'f16' ? '-f16' : ''}`, model: c.model, batch: c.batch, size: c.size, mode: c.mode,
    precision: c.precision,
    median_ms: Number(ms.toFixed(1)), images_per_s: Number(((1000 * c.batch) / ms).toFixed(2)),
    peak_pool_mib: Number((stats.peakBytesAllocated / 2 ** 20).toFixed(1)),
    new_buffers_after_first_step: stats.buffersCreated - created,
    adapter: rt.gpu.adapterInfo.description || rt.gpu.adapterInfo.vendor,
  };
  let breakdown = null;
  if (c.mode === 'train' || flags.breakdown) {
    rt.profiler.start({ byShape: flags['by-shape'] });
    step();
    breakdown = await rt.profiler.stop(rt);
  }
  model.setPrecision('f32'); // frees the f16 weight copies
  for (const t of model.stateTensors().values()) t.dispose();
  opt.dispose();
  x.dispose();
  labels.dispose();
  await rt.sync(); // released buffers become free at the next submission
  rt.pool.releaseFree(); // so that the next case's peak is its own
  return { result, breakdown };
}

await mg.init();
if (flags.winograd) mg.tune({ winograd: flags.winograd });
if (flags['no-dedicated']) mg.tune({ convDepthwise: false });
if (flags['no-subgroup']) {
  mg.tune({ matmulSubgroups: false, convSubgroups: false });
}
const tf = flags['no-tfjs'] ? null : await loadTfjs();
const half = mg.halfPrecisionAvailable();
if (flags.precision !== 'f32' && !half.available) console.log(JSON.stringify({ note: `no f16 rows: ${half.why}` }));

/** The precisions a case runs in: training is f32 only; inference f32 and/or f16 by --precision. */
function precisions(c) {
  if (c.mode === 'train') return ['f32'];
  const f16 = half.available ? ['f16'] : [];
  return flags.precision === 'both' ? ['f32', ...f16] : flags.precision === 'f16' ? f16 : ['f32'];
}

const rows = [];
for (const c of cases().flatMap((c) => precisions(c).map((precision) => ({ ...c, precision })))) {
  const { result, breakdown } = await runCase(c);
  result.winograd = mg.tuning().winograd;
  result.matmul_subgroup = !flags['no-subgroup'] && mg.hasSubgroupKernel();
  if (tf && !(c.model in TRUNK_SCALES)) {
    // TensorFlow.js runs in f32: one peer run per case, shared by its f16 row
    const same = rows.find((r) => r.model === c.model && r.mode === c.mode && r.batch === c.batch && r.size === c.size && r.tfjs_ms !== undefined);
    result.tfjs_ms = same ? same.tfjs_ms : Number((await tfjsCase(tf, { ...c, width: Number(flags.width ?? 64) }, stepsOf(c))).toFixed(1));
    result.speedup_vs_tfjs = Number((result.tfjs_ms / result.median_ms).toFixed(2));
  }
  console.log(JSON.stringify(result));
  rows.push(result);
  if (flags.json) writeJsonAtomic(flags.json, rows); // after every row: a run cut short keeps what it measured
  if (breakdown) {
    const total = breakdown.reduce((s, k) => s + (Number.isFinite(k.ms) ? k.ms : 0), 0);
    for (const k of breakdown.slice(0, flags['by-shape'] ? 40 : 12)) {
      console.log(JSON.stringify({ name: `${result.name}/kernel`, kernel: k.kernel, dispatches: k.dispatches, gpu_ms: Number(k.ms.toFixed(2)), share_pct: Number(((100 * k.ms) / total).toFixed(1)) }));
    }
  }
}
console.log('\ncase                          median ms   images/s   peak pool MiB   new buffers    tfjs ms   speedup');
for (const r of rows) {
  const tfjs = r.tfjs_ms === undefined ? '' : `${String(r.tfjs_ms).padStart(11)}${(r.speedup_vs_tfjs + 'x').padStart(10)}`;
  console.log(`${r.name.padEnd(30)}${String(r.median_ms).padStart(9)}${String(r.images_per_s).padStart(11)}${String(r.peak_pool_mib).padStart(16)}${String(r.new_buffers_after_first_step).padStart(14)}${tfjs}`);
}
await mg.shutdown();
