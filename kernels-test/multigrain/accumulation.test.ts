// The original's learning-rate and accumulation semantics in `train` (scripts/train.py):
// (a) GradientAccumulation + SGD (momentum, weight decay) on a linear model against a float64
//     CPU computation: gradients of the accumulated batches summed (not averaged), the batches
//     that do not fill a step at an epoch's end dropped (or, --partial-accum step, one smaller
//     step), the count restarting with each epoch;
// (b) the trainer: a run whose epoch is shorter than --gradient-accum leaves the weights at their
//     initial values (drop), --gradient-accum 3 and 4-with-step give the same weights (one step
//     of three summed batches), the lr is applied as given and recorded per group in
//     metrics.json, and the sampling's replicas are chosen and printed as documented.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  init, tensor, parameter, matmul, sub, mul, mean, backward, tidy, SGD, GradientAccumulation, MultiGrain, train, loadCheckpointFile,
  hostTensorToFloat32, samplingReplicas, validateTrainOptions, TRAIN_DEFAULTS, type Tensor, type TrainOptions, type PartialAccumulation,
} from '../../src/index.js';
import { randn, assertClose, assertThrowsWith } from '../helpers.js';
import { scratchDir } from '../scratch-dir.js';

const test = suite('accumulation');
test.before(async () => {
  await init();
});

// ---------------------------------------------------------------- (a) against a CPU computation

const D = 3;
const N = 4;
const LR = 0.1;
const MOMENTUM = 0.9;
const DECAY = 0.01;

/** Batch b: x [N, D], y [N, 1] (fixed pseudo-random values). */
function batchData(b: number): { x: Float64Array; y: Float64Array } {
  return { x: Float64Array.from(randn(N * D, 100 + b), Math.fround), y: Float64Array.from(randn(N, 200 + b), Math.fround) };
}

/** d/dw of mean((x w - y)²), float64. */
function cpuGradient(w: Float64Array, b: number): Float64Array {
  const { x, y } = batchData(b);
  const g = new Float64Array(D);
  for (let n = 0; n < N; n++) {
    let r = -y[n];
    for (let d = 0; d < D; d++) r += x[n * D + d] * w[d];
    for (let d = 0; d < D; d++) g[d] += (2 * r * x[n * D + d]) / N;
  }
  return g;
}

/** The trainer's loop on CPU: epochs of batch indices, accumulation over `every`, PyTorch's SGD. */
function cpuRun(w0: Float64Array, epochs: number[][], every: number, partial: PartialAccumulation): Float64Array {
  const w = Float64Array.from(w0);
  let v: Float64Array | null = null;
  const step = (g: Float64Array) => {
    for (let d = 0; d < D; d++) g[d] += DECAY * w[d];
    v = v ? v.map((vd, d) => MOMENTUM * vd + g[d]) : Float64Array.from(g);
    for (let d = 0; d < D; d++) w[d] -= LR * v[d];
  };
  for (const batches of epochs) {
    let sum = new Float64Array(D);
    let pending = 0;
    for (const b of batches) {
      cpuGradient(w, b).forEach((g, d) => (sum[d] += g));
      if (++pending === every) {
        step(sum);
        sum = new Float64Array(D);
        pending = 0;
      }
    }
    if (pending > 0 && partial === 'step') step(sum);
  }
  return w;
}

async function gpuRun(w0: Float64Array, epochs: number[][], every: number, partial: PartialAccumulation): Promise<Float32Array> {
  const w = parameter(Array.from(w0), [D, 1], 'w');
  const opt = new SGD([{ params: [w], lr: LR, momentum: MOMENTUM, weightDecay: DECAY }]);
  for (const batches of epochs) {
    const accumulation = new GradientAccumulation(opt, every, partial);
    for (const b of batches) {
      const { x, y } = batchData(b);
      tidy(() => {
        const r = sub(matmul(tensor(x, [N, D]), w), tensor(y, [N, 1]));
        backward(mean(mul(r, r)));
      });
      accumulation.addBatch();
    }
    accumulation.endEpoch();
  }
  const out = await (w as Tensor).toArray();
  opt.dispose();
  w.dispose();
  return out as Float32Array;
}

for (const partial of ['drop', 'step'] as const) {
  test(`accumulation over 2 batches, epochs of 3 and 2 batches, partial ${partial}: weights match the CPU computation`, async () => {
    const w0 = Float64Array.from(randn(D, 7), Math.fround);
    const epochs = [[0, 1, 2], [3, 4]];
    const expected = cpuRun(w0, epochs, 2, partial);
    assertClose(await gpuRun(w0, epochs, 2, partial), expected, { atol: 1e-6, rtol: 1e-5 }, `partial ${partial}`);
    // the partial accumulation carried into the next epoch would give other weights
    const carried = cpuRun(w0, [[0, 1], [2, 3], [4]], 2, partial);
    assert.ok(carried.some((v, d) => Math.abs(v - expected[d]) > 1e-3), 'the carried-over alternative gives other weights');
  });
}

test('accumulated gradients are summed: one step over batches 0 and 1 = the CPU step with g0 + g1 (not their mean)', async () => {
  const w0 = Float64Array.from(randn(D, 9), Math.fround);
  const got = await gpuRun(w0, [[0, 1]], 2, 'drop');
  const g = cpuGradient(w0, 0).map((v, d) => v + cpuGradient(w0, 1)[d] + DECAY * w0[d]);
  assertClose(got, w0.map((v, d) => v - LR * g[d]), { atol: 1e-6, rtol: 1e-5 }, 'summed');
  const halved = w0.map((v, d) => v - LR * (g[d] - DECAY * w0[d]) / 2 - LR * DECAY * w0[d]);
  assert.ok(Array.from(got).some((v, d) => Math.abs(v - halved[d]) > 1e-3), 'not the averaged step');
  assert.throws(() => new GradientAccumulation({ step: () => undefined, zeroGrad: () => undefined }, 0, 'drop'), /--gradient-accum must be a positive integer, got 0/);
});

// ---------------------------------------------------------------- (b) the trainer

const tiny: Partial<TrainOptions> = {
  dataset: 'fashion-mnist', backbone: 18, baseWidth: 2, inputSize: 32, batchSize: 12, repeatedAugmentations: 3,
  classifWeight: 0.5, poolingExponent: 3, augmentation: 'torch', epochs: 1, epochLenFactor: 1, learningRate: 0.01,
  lrDropsEpochs: [], lrDropsFactors: [], trainSubset: 36, valSubset: 12, logEvery: 1, workers: 1, saveEvery: 0,
  validateFirst: false, progress: false, momentum: 0, weightDecay: 0,
};

/** The trained parameters (not the batchnorm statistics) of a run's checkpoint_1. */
async function parameters(dir: string, names: Set<string>): Promise<Map<string, Float32Array>> {
  const ckpt = await loadCheckpointFile(join(dir, 'checkpoint_1.safetensors'));
  const out = new Map<string, Float32Array>();
  for (const [k, v] of ckpt.groups.model ?? new Map()) if (names.has(k)) out.set(k, hostTensorToFloat32(v));
  return out;
}

test('trainer: 3 batches per epoch with --gradient-accum 4 drop no step; 3 and 4-with-step make the same one step; lr as given, per group', async () => {
  const lines: string[] = [];
  const none = scratchDir('accum-4-drop');
  await train({ ...tiny, expdir: none, gradientAccum: 4 }, (l) => lines.push(l));
  const fresh = new MultiGrain({ backbone: 18, numClasses: 10, poolingExponent: 3, baseWidth: 2, seed: 0 });
  const initial = await fresh.exportStateDict();
  const names = new Set(fresh.namedParameters().map(([n]) => n));
  const dropped = await parameters(none, names);
  assert.ok(dropped.size > 10);
  for (const [k, v] of dropped) assert.equal(Array.from(v), Array.from(hostTensorToFloat32(initial.get(k)!)), `${k}: no step was made`);
  assert.ok(lines.some((l) => l.includes('base learning rate 0.01: --learning-rate as given')), lines.join('\n'));
  assert.ok(lines.some((l) => l.includes('epoch 1/1: learning rate backbone 0.01, margin_beta 0.01')), lines.join('\n'));

  const three = scratchDir('accum-3');
  const four = scratchDir('accum-4-step');
  await train({ ...tiny, expdir: three, gradientAccum: 3, betaLr: 2 }, () => undefined);
  await train({ ...tiny, expdir: four, gradientAccum: 4, partialAccum: 'step', betaLr: 2 }, () => undefined);
  const [a, b] = [await parameters(three, names), await parameters(four, names)];
  let moved = 0;
  for (const [k, v] of a) {
    assert.equal(Array.from(b.get(k)!), Array.from(v), `${k}: one step of three summed batches either way`);
    if (Array.from(v).some((x, i) => x !== hostTensorToFloat32(initial.get(k)!)[i])) moved++;
  }
  assert.ok(moved > 10, `the step moved the weights (${moved} tensors)`);
  const history = JSON.parse(readFileSync(join(three, 'metrics.json'), 'utf8')) as Array<{ lr: number; lrs: Record<string, number> }>;
  assert.equal(history[0]!.lrs, { backbone: 0.01, margin_beta: 0.02 });
  assert.is(history[0]!.lr, 0.01);

  // a folder saved before these options existed ran with linear scaling, global sampling and a
  // partial step: resuming it with the new defaults names each change
  const args = JSON.parse(readFileSync(join(three, 'train_args.json'), 'utf8')) as Record<string, unknown>;
  for (const key of ['lrScaling', 'samplingReplicas', 'globalSampling', 'partialAccum']) delete args[key];
  writeFileSync(join(three, 'train_args.json'), JSON.stringify(args));
  await assertThrowsWith(() => train({ ...tiny, expdir: three, gradientAccum: 3, betaLr: 2 }, () => undefined),
    ['--lr-scaling linear → none', '--sampling-replicas 1 → 0', '--partial-accum step → drop'], 'a folder from before the options');
});

test('trainer: --lr-scaling linear scales by batch x accum / 512; --sampling-replicas splits the batch and says so', async () => {
  const lines: string[] = [];
  const dir = scratchDir('replicas');
  const result = await train({ ...tiny, expdir: dir, lrScaling: 'linear', learningRate: 0.512, gradientAccum: 2, samplingReplicas: 2 }, (l) => lines.push(l));
  assert.ok(Math.abs(result.history[0]!.lrs!.backbone! - 0.024) < 1e-12, `lr ${result.history[0]!.lrs!.backbone}`);
  assert.ok(lines.some((l) => l.includes('triplet sampling per replica: 2 slices of 6 images of the batch of 12')), lines.join('\n'));
  assert.ok(Number.isFinite(result.history[0]!.train!.margin));
});

test('the sampling replicas: 8 at batch 512, slices of at most 64 otherwise, 1 when global or m = 1; bad combinations refused', async () => {
  const base = { samplingReplicas: 0, globalSampling: false, repeatedAugmentations: 3 };
  assert.is(samplingReplicas({ ...base, batchSize: 512 }).replicas, 8);
  assert.is(samplingReplicas({ ...base, batchSize: 96 }).replicas, 2);
  assert.is(samplingReplicas({ ...base, batchSize: 64 }).replicas, 1);
  assert.is(samplingReplicas({ ...base, batchSize: 1024 }).replicas, 16);
  assert.is(samplingReplicas({ ...base, batchSize: 512, samplingReplicas: 3 }).replicas, 3);
  assert.is(samplingReplicas({ ...base, batchSize: 512, globalSampling: true }).replicas, 1);
  assert.is(samplingReplicas({ ...base, batchSize: 512, repeatedAugmentations: 1 }).replicas, 1);
  const o = { ...TRAIN_DEFAULTS, ...tiny, expdir: 'x' } as TrainOptions;
  await assertThrowsWith(() => validateTrainOptions({ ...o, repeatedAugmentations: 1, classifWeight: 0.5 }),
    ['Margin loss in undefined for repeated_augmentations == 1; set --classif-weight=1.0'], 'the original\'s message');
  await assertThrowsWith(() => validateTrainOptions({ ...o, globalSampling: true, samplingReplicas: 4 }), ['--global-sampling', '--sampling-replicas 4'], 'both');
  await assertThrowsWith(() => validateTrainOptions({ ...o, samplingReplicas: 13 }), ['--sampling-replicas 13', '--batch-size 12'], 'too many');
});

test.run();
