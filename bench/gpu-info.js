// What this adapter is and what the engine chooses on it: the adapter's description, features
// and limits; the engine's decisions (CPU adapter or not, convolution schedule, subgroups,
// f16); the convolution algorithm of every ResNet-50 layer shape (inference at b1@224 and the
// three training passes at b32@224); and the kernel variants one ResNet-50 inference (f32,
// and f16 where available) and one ResNet-18 training step dispatch, by kernel and shape (with
// GPU times where the adapter has timestamp queries). Prints one JSON object.
//
//   node bench/gpu-info.js                 the full report
//   node bench/gpu-info.js --quick         ResNet-18 at 64 px for the dispatched variants (fast on CPU Vulkan)
//   node bench/gpu-info.js --json out.json also writes it (atomically)
import { parseArgs } from 'node:util';
import * as mg from '../dist/node/index.js';
import { writeJsonAtomic } from './json-out.js';

const { values: flags } = parseArgs({ options: { quick: { type: 'boolean' }, json: { type: 'string' } } });

/** The adapter as WebGPU describes it (the engine keeps only what it uses). */
async function adapterReport() {
  const { create, globals } = await import('webgpu');
  for (const [name, value] of Object.entries(globals)) if (!(name in globalThis)) globalThis[name] = value;
  const gpu = create([]);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  const limits = {};
  for (const key in adapter.limits) limits[key] = adapter.limits[key];
  const info = adapter.info ?? {};
  return {
    info: { vendor: info.vendor, architecture: info.architecture, device: info.device, description: info.description, subgroupMinSize: info.subgroupMinSize, subgroupMaxSize: info.subgroupMaxSize },
    features: [...adapter.features].sort(),
    limits,
  };
}

/** Every convolution of ResNet-50 (torchvision layout) as [x shape, weight shape, options], distinct. */
function resnet50Convs(batch, size) {
  const convs = new Map();
  const add = (cin, cout, k, stride, pad, h) => {
    const x = [batch, cin, h, h];
    const key = `${x.join('x')} ${cout}x${cin}x${k}x${k} s${stride} p${pad}`;
    if (!convs.has(key)) convs.set(key, { key, x, w: [cout, cin, k, k], opts: { stride, padding: pad } });
    return Math.floor((h + 2 * pad - k) / stride) + 1;
  };
  let h = add(3, 64, 7, 2, 3, size);
  h = Math.floor((h + 2 - 3) / 2) + 1; // max pool
  let cin = 64;
  [3, 4, 6, 3].forEach((blocks, stage) => {
    const planes = 64 * 2 ** stage;
    for (let b = 0; b < blocks; b++) {
      const stride = b === 0 && stage > 0 ? 2 : 1;
      add(cin, planes, 1, 1, 0, h);
      const h2 = add(planes, planes, 3, stride, 1, h);
      add(planes, planes * 4, 1, 1, 0, h2);
      if (b === 0) add(cin, planes * 4, 1, stride, 0, h);
      cin = planes * 4;
      h = h2;
    }
  });
  return [...convs.values()];
}

function convChoices() {
  const infer = resnet50Convs(1, 224).map((c) => ({ conv: c.key, forward: mg.conv2dAlgorithm(c.x, c.w, c.opts) }));
  const train = resnet50Convs(32, 224).map((c) => ({
    conv: c.key,
    forward: mg.conv2dAlgorithm(c.x, c.w, c.opts, 'forward', undefined, true),
    gradInput: mg.conv2dAlgorithm(c.x, c.w, c.opts, 'gradInput', undefined, true),
    gradWeight: mg.conv2dAlgorithm(c.x, c.w, c.opts, 'gradWeight', undefined, true),
  }));
  return { inference_resnet50_b1_224: infer, training_resnet50_b32_224: train };
}

/** The kernels (by shape: the variant names are in the entries) one step dispatches. */
async function dispatched(run) {
  const rt = mg.runtime();
  run(); // compile and warm up outside the profile
  await rt.sync();
  rt.profiler.start({ byShape: true });
  run();
  const rows = await rt.profiler.stop(rt);
  return rows.map((k) => ({ kernel: k.kernel, dispatches: k.dispatches, ...(Number.isFinite(k.ms) ? { gpu_ms: Number(k.ms.toFixed(3)) } : {}) }));
}

async function variants() {
  const size = flags.quick ? 64 : 224;
  const depth = flags.quick ? 18 : 50;
  const out = {};
  const model = new mg.ResNet({ depth, numClasses: 1000 });
  const x = mg.keep(mg.tensor(new Float32Array(3 * size * size).map((_, i) => Math.sin(i)), [1, 3, size, size]));
  model.eval();
  const infer = () => mg.tidy(() => mg.noGrad(() => model.forward(x))).dispose();
  out[`resnet${depth}_infer_b1_${size}_f32`] = await dispatched(infer);
  if (mg.halfPrecisionAvailable().available) {
    model.setPrecision('f16');
    out[`resnet${depth}_infer_b1_${size}_f16`] = await dispatched(infer);
    model.setPrecision('f32');
  }
  for (const t of model.parameters()) t.dispose();
  x.dispose();
  const r18 = new mg.ResNet({ depth: 18, numClasses: 1000 });
  const xb = mg.keep(mg.tensor(new Float32Array(32 * 3 * 64 * 64).map((_, i) => Math.sin(i)), [32, 3, 64, 64]));
  const labels = mg.keep(mg.tensor(Array.from({ length: 32 }, (_, i) => i), [32], 'i32'));
  const opt = new mg.SGD([{ params: r18.parameters(), lr: 0.01, momentum: 0.9, weightDecay: 1e-4 }]);
  r18.train();
  out.resnet18_train_b32_64 = await dispatched(() => {
    mg.tidy(() => mg.backward(mg.crossEntropy(r18.forward(xb), labels)));
    opt.step();
    opt.zeroGrad();
  });
  for (const t of [...r18.parameters(), xb, labels]) t.dispose();
  opt.dispose();
  return out;
}

const adapter = await adapterReport();
await mg.init();
const gpu = mg.runtime().gpu;
const report = {
  adapter,
  engine: {
    cpu_adapter: gpu.cpuAdapter,
    conv_schedule: mg.conv2dResolvedStrategy(),
    subgroup_size: gpu.subgroupSize,
    matmul_subgroup_kernel: mg.hasSubgroupKernel(),
    shader_f16: gpu.hasF16,
    precision_auto: mg.resolvePrecision('auto').reason,
    timestamp_query: gpu.hasTimestamps,
    host_cores: gpu.hostCores,
    device_limits_used: {
      maxComputeInvocationsPerWorkgroup: gpu.limits.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupStorageSize: gpu.limits.maxComputeWorkgroupStorageSize,
      maxStorageBufferBindingSize: gpu.limits.maxStorageBufferBindingSize,
      maxStorageBuffersPerShaderStage: gpu.limits.maxStorageBuffersPerShaderStage,
      maxBufferSize: gpu.limits.maxBufferSize,
    },
    tuning: mg.tuning(),
  },
  conv_algorithms: convChoices(),
  dispatched: await variants(),
};
console.log(JSON.stringify(report, null, 2));
if (flags.json) writeJsonAtomic(flags.json, report);
await mg.shutdown();
