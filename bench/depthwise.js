// Depthwise convolution benchmark: our depthwise kernels (forward, input gradient, weight
// gradient) against the implicit GEMM they replace (`tune({ convDepthwise: false })`) and
// against TensorFlow.js's WebGPU depthwise kernels (DepthwiseConv2dNative and its two
// backprop kernels) on the same Dawn adapter, side by side. Shapes: MobileNet-like maps and the
// NASNet sizes (k5/k7 separable convolutions), batch 1 and 8.
//
//   node tools/build.mjs && node bench/depthwise.js [--runs 5] [--batch 1,8] [--filter text] [--ops fwd,dgrad,wgrad] [--no-gemm]
//
// Prints one JSON line per case and op (wall and process-CPU medians of ours, the GEMM and
// tfjs, and the ratios), then a table. Each variant runs once to warm up (pipeline compile), then `runs` times; a run is
// the wall time from recording the dispatches to the queue being done (ours: runtime().sync();
// tfjs: its queue submitted, then onSubmittedWorkDone). The median is reported. On a shared
// CPU (lavapipe) the figures are noisy: compare the ratios within one run.
import * as mg from '../dist/node/index.js';
import { loadTfjs } from './tfjs-resnet.js';

const args = process.argv.slice(2);
const flag = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const runs = Number(flag('runs', 5));
const batches = flag('batch', '1,8').split(',').map(Number);
const filter = flag('filter', '');
const ops = flag('ops', 'fwd,dgrad,wgrad').split(',');
const withGemm = !args.includes('--no-gemm');

// [name, C, H, k, stride]; padding (k - 1) / 2 ("same"), multiplier 1.
const CASES = [
  ['mobilenet.32@112 k3', 32, 112, 3, 1],
  ['mobilenet.96@112 k3 s2', 96, 112, 3, 2],
  ['nasnet.672@14 k5', 672, 14, 5, 1],
  ['nasnet.44@56 k5 s2', 44, 56, 5, 2],
  ['nasnet.88@28 k7 s2', 88, 28, 7, 2],
  ['nasnet.176@14 k3', 176, 14, 3, 1],
];

await mg.init();
const rt = mg.runtime();
const tf = await loadTfjs();
const info = rt.gpu.adapterInfo;
console.error(`adapter: ${info.description || info.device || info.vendor} (${info.architecture}); tfjs: ${tf ? 'webgpu' : 'not installed'}`);

function randomData(n, seed) {
  const data = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    data[i] = (s / 4294967296 - 0.5) * 0.1;
  }
  return data;
}

/** Median wall ms and median process CPU ms (all threads, lavapipe's included: steadier on a shared machine). */
async function median(run, sync) {
  const once = async () => {
    await sync();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const out = run();
    await sync();
    const ms = performance.now() - t0;
    const c = process.cpuUsage(c0);
    out.dispose();
    return { ms, cpu: (c.user + c.system) / 1000 };
  };
  await once(); // warm-up: pipeline compile
  const samples = [];
  for (let r = 0; r < runs; r++) samples.push(await once());
  const mid = (v) => +v.sort((a, b) => a - b)[Math.floor(v.length / 2)].toFixed(2);
  return { ms: mid(samples.map((t) => t.ms)), cpu: mid(samples.map((t) => t.cpu)) };
}

const ourSync = () => rt.sync();
const tfSync = async () => {
  const backend = tf.backend();
  backend.ensureCommandEncoderReady();
  backend.endComputePassEncoder();
  backend.submitQueue();
  await backend.device.queue.onSubmittedWorkDone();
};

const rows = [];
for (const N of batches) {
  for (const [name, C, H, k, s] of CASES) {
    if (filter && !name.includes(filter)) continue;
    const p = (k - 1) / 2;
    const OH = Math.floor((H + 2 * p - k) / s) + 1;
    const xData = randomData(N * C * H * H, 1);
    const wData = randomData(C * k * k, 2);
    const dyData = randomData(N * C * OH * OH, 3);
    const x = mg.tensor(xData, [N, C, H, H]);
    const w = mg.tensor(wData, [C, 1, k, k]);
    const dy = mg.tensor(dyData, [N, C, OH, OH]);
    const opts = { stride: s, padding: p, groups: C };
    const ours = {
      fwd: () => mg.conv2dRaw(x, w, null, opts),
      dgrad: () => mg.conv2dGradInput(dy, w, x.shape, opts),
      wgrad: () => mg.conv2dGradWeight(dy, x, w.shape, opts),
    };
    // tfjs in its native NHWC layout, filter [k, k, C, 1] (same values, transposed once)
    let tfx, tfw, tfdy, theirs;
    if (tf) {
      tfx = tf.transpose(tf.tensor4d(xData, [N, C, H, H]), [0, 2, 3, 1]);
      tfw = tf.transpose(tf.tensor4d(wData, [C, 1, k, k]), [2, 3, 0, 1]);
      tfdy = tf.transpose(tf.tensor4d(dyData, [N, C, OH, OH]), [0, 2, 3, 1]);
      const attrs = { strides: [s, s], pad: p, dilations: [1, 1] };
      theirs = {
        fwd: () => tf.depthwiseConv2d(tfx, tfw, s, p),
        dgrad: () => tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy: tfdy, filter: tfw }, { ...attrs, inputShape: [N, H, H, C] }),
        wgrad: () => tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x: tfx, dy: tfdy }, { ...attrs, filterShape: [k, k, C, 1] }),
      };
    }
    for (const op of ops) {
      const row = { name, shape: `${N}x${C}x${H}x${H} k${k} s${s} p${p}`, op };
      const put = (who, t) => {
        row[`${who}_ms`] = t.ms;
        row[`${who}_cpu_ms`] = t.cpu;
      };
      put('ours', await median(ours[op], ourSync));
      if (withGemm) {
        const before = mg.tune({ convDepthwise: false });
        put('gemm', await median(ours[op], ourSync));
        mg.tune(before);
        row.gemm_over_ours = +(row.gemm_ms / row.ours_ms).toFixed(2);
        row.gemm_over_ours_cpu = +(row.gemm_cpu_ms / row.ours_cpu_ms).toFixed(2);
      }
      if (tf) {
        put('tfjs', await median(theirs[op], tfSync));
        row.tfjs_over_ours = +(row.tfjs_ms / row.ours_ms).toFixed(2);
        row.tfjs_over_ours_cpu = +(row.tfjs_cpu_ms / row.ours_cpu_ms).toFixed(2);
      }
      rows.push(row);
      console.log(JSON.stringify(row));
    }
    for (const t of [x, w, dy]) t.dispose();
    if (tf) for (const t of [tfx, tfw, tfdy]) t.dispose();
  }
}

const pad = (v, n) => String(v ?? '-').padEnd(n);
const lpad = (v, n) => String(v ?? '-').padStart(n);
console.log('');
console.log('wall ms (cpu ms: process CPU time, all threads); ratios > 1: ours faster');
console.log(`${pad('name', 24)} ${pad('shape', 26)} ${pad('op', 6)} ${lpad('ours', 16)} ${lpad('gemm', 16)} ${lpad('gemm/ours', 12)} ${lpad('tfjs', 16)} ${lpad('tfjs/ours', 12)}`);
const both = (ms, cpu) => (ms === undefined ? '-' : `${ms} (${cpu})`);
for (const r of rows) {
  console.log(`${pad(r.name, 24)} ${pad(r.shape, 26)} ${pad(r.op, 6)} ${lpad(both(r.ours_ms, r.ours_cpu_ms), 16)} ${lpad(both(r.gemm_ms, r.gemm_cpu_ms), 16)} ${lpad(both(r.gemm_over_ours, r.gemm_over_ours_cpu), 12)} ${lpad(both(r.tfjs_ms, r.tfjs_cpu_ms), 16)} ${lpad(both(r.tfjs_over_ours, r.tfjs_over_ours_cpu), 12)}`);
}
await mg.shutdown?.();
