// The same ResNet cases in TensorFlow.js's WebGPU backend, on the same adapter (Dawn ->
// lavapipe here), so that bench/resnet.js measures the two engines side by side.
// `@tensorflow/tfjs-core` and `@tensorflow/tfjs-backend-webgpu` are devDependencies used by
// the benchmarks only; `loadTfjs()` returns null when they are not installed.
//
// The network is torchvision's ResNet (v1.5: bottlenecks stride in the 3x3 conv) written
// with tfjs-core ops in tfjs's native NHWC layout, random weights: the same arithmetic as
// ours. Training mode normalizes with batch statistics (tf.moments) and steps tfjs's own
// momentum SGD, like our training step.

const LAYOUTS = {
  18: { bottleneck: false, blocks: [2, 2, 2, 2] },
  34: { bottleneck: false, blocks: [3, 4, 6, 3] },
  50: { bottleneck: true, blocks: [3, 4, 6, 3] },
  101: { bottleneck: true, blocks: [3, 4, 23, 3] },
};

/** tfjs with its WebGPU backend on Dawn's adapter, or null when the packages are missing. */
export async function loadTfjs() {
  // The backend registers itself at import only where navigator.gpu exists.
  if (!globalThis.navigator?.gpu) {
    const { create, globals } = await import('webgpu');
    for (const [k, v] of Object.entries(globals)) if (!(k in globalThis)) globalThis[k] = v;
    // Kept reachable in a global: Dawn segfaults if this object is garbage-collected.
    Object.defineProperty(globalThis, 'navigator', { value: { gpu: create([]) }, configurable: true });
  }
  let tf;
  try {
    tf = await import(await bundleTfjs());
  } catch (err) {
    if (err.code === 'ERR_MODULE_NOT_FOUND' || /Could not resolve/.test(err.message)) return null;
    throw err;
  }
  if (!(await tf.setBackend('webgpu'))) return null;
  await tf.ready();
  return tf;
}

/**
 * tfjs-core's Node bundle registers no gradients, and its ES modules do not load in Node
 * as they are (extension-less imports): esbuild bundles core + gradients + WebGPU backend
 * into one module, so all three share one tfjs engine.
 */
async function bundleTfjs() {
  const { build } = await import('esbuild');
  const { fileURLToPath, pathToFileURL } = await import('node:url');
  const root = fileURLToPath(new URL('..', import.meta.url));
  const outfile = `${root}build/bench/tfjs-bundle.mjs`;
  await build({
    stdin: {
      contents: [
        "export * from '@tensorflow/tfjs-core';",
        "import '@tensorflow/tfjs-core/dist/register_all_gradients';",
        "import '@tensorflow/tfjs-backend-webgpu';",
      ].join('\n'),
      resolveDir: root,
    },
    bundle: true, platform: 'node', format: 'esm', mainFields: ['module', 'main'], outfile, logLevel: 'error',
    // tfjs's Node platform require()s 'util' at run time.
    banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
  });
  return pathToFileURL(outfile).href;
}

function convParams(tf, inC, outC, k) {
  const std = Math.sqrt(2 / (outC * k * k)); // Kaiming normal, fan-out (torchvision)
  return { w: tf.variable(tf.randomNormal([k, k, inC, outC], 0, std)), k };
}

function bnParams(tf, c) {
  return {
    gamma: tf.variable(tf.ones([c])), beta: tf.variable(tf.zeros([c])),
    mean: tf.zeros([c]), variance: tf.ones([c]),
  };
}

function conv(tf, x, p, stride, pad) {
  const padding = pad === 0 ? 'valid' : [[0, 0], [pad, pad], [pad, pad], [0, 0]];
  return tf.conv2d(x, p.w, stride, padding);
}

function bn(tf, x, p, training) {
  if (!training) return tf.batchNorm(x, p.mean, p.variance, p.beta, p.gamma, 1e-5);
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  return tf.batchNorm(x, mean, variance, p.beta, p.gamma, 1e-5);
}

/** A ResNet of the given depth: { forward(x NHWC, training) -> logits, variables }. */
export function tfjsResNet(tf, depth, numClasses = 1000, width = 64) {
  const layout = LAYOUTS[depth];
  if (!layout) throw new Error(`tfjsResNet: depth ${depth} not supported`);
  const expansion = layout.bottleneck ? 4 : 1;
  const stem = { conv: convParams(tf, 3, width, 7), bn: bnParams(tf, width) };
  const stages = [];
  let inC = width;
  layout.blocks.forEach((count, i) => {
    const planes = width * 2 ** i;
    for (let b = 0; b < count; b++) {
      const stride = b === 0 && i > 0 ? 2 : 1;
      const outC = planes * expansion;
      const convs = layout.bottleneck
        ? [[inC, planes, 1, 1, 0], [planes, planes, 3, stride, 1], [planes, outC, 1, 1, 0]]
        : [[inC, planes, 3, stride, 1], [planes, planes, 3, 1, 1]];
      stages.push({
        convs: convs.map(([ci, co, k, s, p]) => ({ conv: convParams(tf, ci, co, k), bn: bnParams(tf, co), stride: s, pad: p })),
        down: stride !== 1 || inC !== outC ? { conv: convParams(tf, inC, outC, 1), bn: bnParams(tf, outC), stride } : null,
      });
      inC = outC;
    }
  });
  const fc = { w: tf.variable(tf.randomUniform([inC, numClasses], -1 / Math.sqrt(inC), 1 / Math.sqrt(inC))), b: tf.variable(tf.zeros([numClasses])) };

  function forward(x, training) {
    let h = tf.relu(bn(tf, conv(tf, x, stem.conv, 2, 3), stem.bn, training));
    h = tf.maxPool(h, 3, 2, [[0, 0], [1, 1], [1, 1], [0, 0]]);
    for (const block of stages) {
      let y = h;
      block.convs.forEach((c, j) => {
        y = bn(tf, conv(tf, y, c.conv, c.stride, c.pad), c.bn, training);
        if (j < block.convs.length - 1) y = tf.relu(y);
      });
      const identity = block.down ? bn(tf, conv(tf, h, block.down.conv, block.down.stride, 0), block.down.bn, training) : h;
      h = tf.relu(tf.add(y, identity));
    }
    return tf.add(tf.matMul(tf.mean(h, [1, 2]), fc.w), fc.b);
  }
  return { forward };
}

/**
 * Times one benchmark case in tfjs: `{ model: 'resnet50', batch, size, mode: 'infer'|'train', width? }`,
 * warm-up step first, then `steps` timed steps each ending in a readback of a scalar (tfjs has
 * no other way to wait for the GPU). Returns the median milliseconds.
 */
export async function tfjsCase(tf, c, steps) {
  const depth = Number(c.model.replace('resnet', ''));
  const net = tfjsResNet(tf, depth, 1000, c.width ?? 64);
  const x = tf.randomNormal([c.batch, c.size, c.size, 3]);
  const labels = tf.oneHot(tf.tensor1d(Array.from({ length: c.batch }, (_, i) => i % 1000), 'int32'), 1000);
  const optimizer = tf.train.momentum(0.01, 0.9);
  const step = async () => {
    if (c.mode === 'train') {
      const loss = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(labels, net.forward(x, true)), true);
      await loss.data();
      loss.dispose();
    } else {
      const out = tf.tidy(() => tf.sum(net.forward(x, false)));
      await out.data();
      out.dispose();
    }
  };
  await step();
  const times = [];
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    await step();
    times.push(performance.now() - t0);
  }
  tf.disposeVariables();
  tf.dispose([x, labels]);
  optimizer.dispose();
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}
