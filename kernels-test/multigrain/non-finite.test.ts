// NaN weights are caught: loading refuses a tensor holding NaN or infinite values, naming it
// and the file (a whole model, a pretrained trunk, a training checkpoint to resume); the
// trainer's guard reads the weights' non-finite counts with its metrics, so a weight gone NaN
// stops the run at the next log window, even where the loss stays finite.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import {
  init, tensor, GpuMetrics, MultiGrain, train, loadMultiGrainWeights, loadPretrainedTrunk, openMultiGrain,
  readStateDict, saveCheckpointFile, loadCheckpointFile, makeHostTensor, countNonFinite, checkFiniteTensors, type TrainOptions,
} from '../../src/index.js';
import { assertThrowsWith } from '../helpers.js';
import { scratchDir } from '../scratch-dir.js';

const test = suite('non-finite weights');
const quiet = () => undefined;
const tiny: Partial<TrainOptions> = {
  dataset: 'fashion-mnist', backbone: 18, baseWidth: 2, inputSize: 32, batchSize: 12, repeatedAugmentations: 3,
  classifWeight: 0.5, poolingExponent: 3, augmentation: 'torch', epochs: 1, epochLenFactor: 1, learningRate: 0.5, lrScaling: 'linear',
  lrDropsEpochs: [], lrDropsFactors: [], trainSubset: 36, valSubset: 12, logEvery: 2, workers: 1, saveEvery: 0,
  validateFirst: false, progress: false,
};

test.before(async () => {
  await init();
});

test('countNonFinite and checkFiniteTensors: every float dtype, the tensor named with its counts', () => {
  const f32 = makeHostTensor('f32', [4], Float32Array.of(1, NaN, Infinity, NaN));
  assert.equal(countNonFinite(f32), { nan: 2, infinite: 1 });
  assert.equal(countNonFinite(makeHostTensor('f64', [2], Float64Array.of(-Infinity, 3))), { nan: 0, infinite: 1 });
  // f16: 0x7c00 = inf, 0x7e00 = NaN, 0x3c00 = 1; bf16: 0x7f80 = inf, 0x7fc0 = NaN, 0x3f80 = 1
  assert.equal(countNonFinite(makeHostTensor('f16', [3], Uint16Array.of(0x7c00, 0x7e00, 0x3c00))), { nan: 1, infinite: 1 });
  assert.equal(countNonFinite(makeHostTensor('bf16', [3], Uint16Array.of(0xff80, 0x7fc0, 0x3f80))), { nan: 1, infinite: 1 });
  assert.equal(countNonFinite(makeHostTensor('i32', [2], Int32Array.of(-1, 2))), { nan: 0, infinite: 0 });
  const ok = makeHostTensor('f32', [2], Float32Array.of(3.4e38, -0));
  checkFiniteTensors(new Map([['a', ok]]), 'x.pth');
  const nan12 = makeHostTensor('f32', [16], new Float32Array(16).fill(NaN, 0, 12));
  assert.throws(() => checkFiniteTensors(new Map([['a', ok], ['conv1.weight', nan12], ['fc.bias', f32]]), 'x.pth'),
    /^x\.pth: conv1\.weight holds 12 NaN values; 1 more tensor\(s\) too: fc\.bias/);
});

/** A MultiGrain checkpoint of a fresh tiny model with `count` NaN values written into conv1. */
async function nanCheckpoint(dir: string, count: number): Promise<string> {
  const model = new MultiGrain({ backbone: 18, baseWidth: 2, numClasses: 10 });
  const dict = await model.exportStateDict();
  const w = dict.get('features.conv1.weight')!;
  const data = new Float32Array(w.data as Float32Array).fill(NaN, 0, count);
  dict.set('features.conv1.weight', makeHostTensor('f32', w.shape, data));
  const path = join(dir, 'nan.safetensors');
  await saveCheckpointFile(path, { groups: { model: dict }, meta: {} });
  return path;
}

test('a checkpoint with a NaN tensor is refused naming it and the file (model, trunk, open, read)', async () => {
  const path = await nanCheckpoint(scratchDir('nan-load'), 12);
  const want = [path, 'features.conv1.weight holds 12 NaN values'];
  const model = new MultiGrain({ backbone: 18, baseWidth: 2, numClasses: 10 });
  const before = Array.from(await model.features.stateTensors().get('conv1.weight')!.toArray());
  await assertThrowsWith(() => loadMultiGrainWeights(model, path), want, 'loadMultiGrainWeights');
  await assertThrowsWith(() => loadPretrainedTrunk(model, path), want, 'loadPretrainedTrunk (--pretrained-backbone)');
  await assertThrowsWith(() => openMultiGrain(path), want, 'openMultiGrain (--resume-from of evaluate, whiten, finetune-p)');
  await assertThrowsWith(() => readStateDict(path), want, 'readStateDict');
  assert.equal(Array.from(await model.features.stateTensors().get('conv1.weight')!.toArray()), before, 'the model is left as it was');
});

test('train --pretrained-backbone with NaN weights stops before training', async () => {
  const dir = scratchDir('nan-pretrained');
  const path = await nanCheckpoint(dir, 3);
  await assertThrowsWith(() => train({ ...tiny, expdir: join(dir, 'run'), pretrainedBackbone: path }, quiet),
    [path, 'features.conv1.weight holds 3 NaN values'], 'pretrained');
  assert.not.ok(existsSync(join(dir, 'run', 'checkpoint_1.safetensors')));
});

test('resuming from a training checkpoint with a NaN tensor is refused naming <group>/<name>', async () => {
  const dir = scratchDir('nan-resume');
  await train({ ...tiny, expdir: dir }, quiet);
  const file = join(dir, 'checkpoint_1.safetensors');
  const ckpt = await loadCheckpointFile(file);
  const v = ckpt.groups.optimizer!.get('backbone.features.bn1.weight')!;
  ckpt.groups.optimizer!.set('backbone.features.bn1.weight', makeHostTensor('f32', v.shape, new Float32Array(v.data as Float32Array).fill(-Infinity, 0, 1)));
  await saveCheckpointFile(file, ckpt);
  await assertThrowsWith(() => train({ ...tiny, expdir: dir, epochs: 2 }, quiet), [file, 'optimizer/backbone.features.bn1.weight holds 1 infinite value'], 'resume');
});

test('the guard reports a weight gone NaN behind a finite loss, with the metrics readback', async () => {
  const w = tensor([1, 2, 3, 4], [4]);
  const b = tensor([0.5], [1]);
  const metrics = new GpuMetrics([['layer.weight', w], ['layer.bias', b], ['steps', tensor([1], [1], 'i32')]]);
  const one = (v: number) => tensor([v], [1]);
  const step = (s: number) => metrics.add({ ce: one(1), margin: one(0.5), loss: one(0.75), beta: one(1.2), hits: tensor([1, 2], [2]), samples: 4 }, s);
  step(0);
  let r = await metrics.read();
  assert.equal([r.firstBadStep, r.nonFinite, r.steps, r.metrics.loss], [-1, [], 1, 0.75]);
  w.assign(Float32Array.of(1, NaN, NaN, -Infinity)); // as a diverged update would leave it
  step(1);
  step(2);
  r = await metrics.read();
  assert.equal(r.firstBadStep, -1, 'the loss stayed finite');
  assert.equal(r.nonFinite, [{ name: 'layer.weight', count: 3 }]);
  assert.is(r.metrics.loss, 0.75);
  metrics.dispose();
});

test('a run whose weights diverge stops at the log window, naming the step and the weights', async () => {
  const dir = scratchDir('nan-train');
  await train({ ...tiny, expdir: dir }, quiet);
  const err = await train({ ...tiny, expdir: dir, epochs: 2, learningRate: 1e30, forceArgs: true }, quiet).then(() => null, (e: Error) => e);
  assert.ok(err, 'the run is stopped');
  // 3 steps per epoch, --log-every 2: epoch 2's first window ends at step 4
  assert.match(err.message, /by step 4 \d+ weight tensor\(s\) hold NaN or infinite values: features\.\S+ \(\d+\)/);
  assert.match(err.message, /the last checkpoint in .* is intact/);
  assert.not.ok(existsSync(join(dir, 'checkpoint_2.safetensors')));
});

test.run();
