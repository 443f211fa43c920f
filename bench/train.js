// MultiGrain training-step benchmark: a full step (RA batch, distance-weighted sampling,
// joint loss, backward, SGD on the network and beta, GPU metrics) against the trunk's
// forward + backward with cross-entropy alone; overhead_pct is the MultiGrain-specific share.
// Prints JSON lines, then a table.
//
//   node bench/train.js                 ResNet-18 b96@32 (width 8) and ResNet-50 b24@64
//   node bench/train.js --model resnet50 --batch 24 --size 64 --width 64 --steps 3
//   node bench/train.js --quick         ResNet-18 b96@32 (width 8) only
//   node bench/train.js --json rows.json   also writes the rows as one JSON array
import { parseArgs } from 'node:util';
import * as mg from '../dist/node/index.js';
import { writeJsonAtomic } from './json-out.js';

const { values: flags } = parseArgs({
  options: {
    model: { type: 'string' }, batch: { type: 'string' }, size: { type: 'string' }, width: { type: 'string' }, steps: { type: 'string' },
    quick: { type: 'boolean' }, json: { type: 'string' },
  },
});

const CASES = flags.model
  ? [{ model: flags.model, batch: Number(flags.batch ?? 24), size: Number(flags.size ?? 64), width: Number(flags.width ?? 64) }]
  : [
    { model: 'resnet18', batch: 96, size: 32, width: 8 },
    { model: 'resnet50', batch: 24, size: 64, width: 64 },
  ].slice(0, flags.quick ? 1 : 2);

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function timeSteps(step, steps) {
  const rt = mg.runtime();
  step(0);
  await rt.sync();
  const times = [];
  for (let i = 1; i <= steps; i++) {
    const t0 = performance.now();
    step(i);
    await rt.sync();
    times.push(performance.now() - t0);
  }
  return median(times);
}

async function runCase(c) {
  const m = 3;
  const model = new mg.MultiGrain({ backbone: Number(c.model.replace('resnet', '')), numClasses: 1000, baseWidth: c.width, poolingExponent: 3 });
  const beta = mg.keep(mg.parameter([1.2], [1], 'beta'));
  const opt = new mg.SGD([{ params: model.parameters(), lr: 0.01, momentum: 0.9, weightDecay: 1e-4 }]);
  const betaOpt = new mg.SGD([{ params: [beta], lr: 0.01, momentum: 0.9 }]);
  const x = mg.keep(mg.tensor(new Float32Array(c.batch * 3 * c.size * c.size).map((_, i) => Math.sin(i * 0.37)), [c.batch, 3, c.size, c.size]));
  const labels = mg.keep(mg.tensor(Array.from({ length: c.batch }, (_, i) => Math.floor(i / m) % 1000), [c.batch], 'i32'));
  const ids = Array.from({ length: c.batch }, (_, i) => Math.floor(i / m));
  const metrics = new mg.GpuMetrics();
  const steps = Number(flags.steps ?? 3);

  const plainStep = () => {
    mg.tidy(() => mg.backward(mg.crossEntropy(model.forward(x).logits, labels)));
    opt.zeroGrad();
  };
  const fullStep = (i) => {
    mg.tidy(() => {
      const out = model.forward(x);
      const ce = mg.crossEntropy(out.logits, labels);
      const margin = mg.sampledMarginLoss(out.normalizedEmbedding, beta, ids, i).loss;
      const loss = mg.add(mg.mulScalar(ce, 0.5), mg.mulScalar(margin, 0.5));
      mg.backward(loss);
      const hits = mg.topkCorrect(out.logits, labels, [1, 5]);
      metrics.add({ ce, margin, loss, beta: mg.noGrad(() => mg.addScalar(beta, 0)), hits, samples: c.batch }, i);
    });
    opt.step();
    betaOpt.step();
    opt.zeroGrad();
    betaOpt.zeroGrad();
  };
  // alternate the two so that both run on warm caches and under the same machine load
  const plainTimes = [];
  const fullTimes = [];
  for (let round = 0; round < 2; round++) {
    plainTimes.push(await timeSteps(plainStep, steps));
    fullTimes.push(await timeSteps(fullStep, steps));
  }
  const plain = Math.min(...plainTimes);
  const full = Math.min(...fullTimes);
  await metrics.read();
  metrics.dispose();
  for (const t of [...model.parameters(), beta, x, labels]) t.dispose();
  opt.dispose();
  betaOpt.dispose();
  return {
    name: `multigrain-${c.model}-w${c.width}-b${c.batch}-${c.size}`, model: c.model, batch: c.batch, size: c.size,
    images_per_s: Number(((1000 * c.batch) / full).toFixed(2)),
    step_ms: Number(full.toFixed(1)), fwd_bwd_ms: Number(plain.toFixed(1)),
    overhead_pct: Number(((100 * (full - plain)) / full).toFixed(1)),
  };
}

await mg.init();
const rows = [];
for (const c of CASES) {
  const r = await runCase(c);
  console.log(JSON.stringify(r));
  rows.push(r);
}
console.log('\ncase                                   step ms   fwd+bwd ms   overhead %   images/s');
for (const r of rows) console.log(`${r.name.padEnd(38)}${String(r.step_ms).padStart(8)}${String(r.fwd_bwd_ms).padStart(13)}${String(r.overhead_pct).padStart(13)}${String(r.images_per_s).padStart(11)}`);
if (flags.json) writeJsonAtomic(flags.json, rows);
await mg.shutdown();
