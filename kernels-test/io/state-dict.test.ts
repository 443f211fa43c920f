import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  MULTIGRAIN_RESNET_LAYOUT, StateDictMismatchError, TORCHVISION_RESNET_LAYOUT, describeResNetStateDict, extractStateDict,
  loadTorchCheckpoint, makeHostTensor, matchStateDict, remapKey, remapStateDictKeys, resnetKeyRemap, type StateDict,
} from '../../src/index.js';
import { fixture } from './fixtures.js';

async function load(name: string): Promise<StateDict> {
  return extractStateDict((await loadTorchCheckpoint(fixture(name))).value);
}
function shapesOf(sd: StateDict): Map<string, number[]> {
  return new Map([...sd].map(([k, t]) => [k, t.shape]));
}
function errorOf(fn: () => unknown): StateDictMismatchError {
  try { fn(); } catch (e) { assert.instance(e, StateDictMismatchError); return e as StateDictMismatchError; }
  throw new Error('no error thrown');
}

test('extractStateDict finds model_state, a bare state dict, and strips module.', async () => {
  const mg = await load('multigrain_whitened_tiny.pth');
  assert.ok(mg.has('features.conv1.weight') && mg.has('whitening.pca.pca_P'));
  const tv = await load('resnet_tv_tiny.pth');
  assert.is([...tv.keys()][0], 'conv1.weight');
  const t = makeHostTensor('f32', [1], new Float32Array(1));
  const dp = extractStateDict(new Map([['state_dict', new Map([['module.a', t], ['module.b', t]])]]));
  assert.equal([...dp.keys()], ['a', 'b']);
  assert.throws(() => extractStateDict(new Map<string, unknown>([['epoch', 3], ['args', 'x']])), /no state dict found.*top-level keys are: epoch, args/);
  const custom = extractStateDict({ weights: { a: t } }, { prefer: ['weights'] });
  assert.equal([...custom.keys()], ['a']);
});

test('describeResNetStateDict: layout, classes, whitening, pool.p', async () => {
  const mg = describeResNetStateDict(await load('multigrain_whitened_tiny.pth'));
  assert.is(mg.layout, 'multigrain');
  assert.ok(mg.whitened);
  assert.is(mg.numClasses, 5);
  assert.is(mg.classifierInputs, 3);
  assert.is(mg.poolP, 3);
  assert.equal(mg.blocks, [1, 0, 0, 0]);
  assert.is(mg.bottleneck, false);
  const tv = describeResNetStateDict(await load('resnet_tv_tiny.pth'));
  assert.is(tv.layout, 'torchvision');
  assert.is(tv.whitened, false);
  assert.is(tv.poolP, undefined);
  const fake: StateDict = new Map();
  const t = makeHostTensor('f32', [1], new Float32Array(1));
  for (const [s, n] of [[1, 3], [2, 4], [3, 6], [4, 3]]) for (let i = 0; i < n!; i++) fake.set(`layer${s}.${i}.conv3.weight`, t);
  fake.set('conv1.weight', t);
  assert.is(describeResNetStateDict(fake).arch, 'resnet50');
});

test('key remapping between torchvision and MultiGrain layouts', () => {
  const tv2mg = resnetKeyRemap(TORCHVISION_RESNET_LAYOUT, MULTIGRAIN_RESNET_LAYOUT);
  assert.is(remapKey('layer1.0.bn1.running_mean', tv2mg), 'features.layer1.0.bn1.running_mean');
  assert.is(remapKey('fc.weight', tv2mg), 'classifier.weight');
  const mg2tv = resnetKeyRemap(MULTIGRAIN_RESNET_LAYOUT, TORCHVISION_RESNET_LAYOUT);
  assert.is(remapKey('features.conv1.weight', mg2tv), 'conv1.weight');
  assert.is(remapKey('classifier.bias', mg2tv), 'fc.bias');
  assert.is(remapKey('pool.p', mg2tv), 'pool.p');
  const t = makeHostTensor('f32', [1], new Float32Array(1));
  assert.throws(() => remapStateDictKeys(new Map([['a.x', t], ['b.x', t]]), [['a.', ''], ['b.', '']]), /both 'a\.x' and 'b\.x' to 'x'/);
});

test('matchStateDict: torchvision weights into a MultiGrain-named model', async () => {
  const tv = await load('resnet_tv_tiny.pth');
  const expected = new Map([...shapesOf(tv)].filter(([k]) => !k.endsWith('num_batches_tracked'))
    .map(([k, s]) => [remapKey(k, resnetKeyRemap(TORCHVISION_RESNET_LAYOUT, MULTIGRAIN_RESNET_LAYOUT)), s]));
  const r = matchStateDict(tv, expected, { remap: resnetKeyRemap(TORCHVISION_RESNET_LAYOUT, MULTIGRAIN_RESNET_LAYOUT) });
  assert.equal([...r.tensors.keys()], [...expected.keys()]);
  assert.ok(r.tensors.get('classifier.weight') === tv.get('fc.weight'));
  assert.equal(r.ignored, ['bn1.num_batches_tracked', 'layer1.0.bn1.num_batches_tracked', 'layer1.0.bn2.num_batches_tracked']);
  // A model that keeps num_batches_tracked gets it; one whose file lacks it is fine by default.
  const withNbt = new Map([...expected, ['features.bn1.num_batches_tracked', []]]);
  const r2 = matchStateDict(tv, withNbt, { remap: resnetKeyRemap(TORCHVISION_RESNET_LAYOUT, MULTIGRAIN_RESNET_LAYOUT) });
  assert.is(r2.tensors.get('features.bn1.num_batches_tracked')!.dtype, 'i64');
  tv.delete('bn1.num_batches_tracked');
  matchStateDict(tv, withNbt, { remap: resnetKeyRemap(TORCHVISION_RESNET_LAYOUT, MULTIGRAIN_RESNET_LAYOUT) });
});

test('matchStateDict errors name each key and both shapes', async () => {
  const mg = await load('multigrain_whitened_tiny.pth');
  const expected = shapesOf(mg);
  // A model built without whitening: classifier with d = 2 columns, no whitening module.
  expected.set('classifier.weight', [5, 2]);
  expected.delete('whitening.pca.pca_m');
  expected.delete('whitening.pca.pca_P');
  expected.set('features.layer2.0.conv1.weight', [4, 2, 3, 3]);
  const e = errorOf(() => matchStateDict(mg, expected));
  assert.equal(e.shapeMismatches, [{ key: 'classifier.weight', sourceKey: 'classifier.weight', expected: [5, 2], actual: [5, 3] }]);
  assert.equal(e.missing, ['features.layer2.0.conv1.weight']);
  assert.equal(e.unexpected, ['whitening.pca.pca_m', 'whitening.pca.pca_P']);
  assert.match(e.message, "shape mismatch: 'classifier.weight': model expects [5, 2], checkpoint has [5, 3]");
  assert.match(e.message, "missing: 'features.layer2.0.conv1.weight' (model expects [4, 2, 3, 3])");
  assert.match(e.message, "unexpected: 'whitening.pca.pca_P' [3, 3]");
  assert.match(e.message, 'hint: the checkpoint is PCA-whitened');
  // With a remap, the original checkpoint key is named too.
  const tv = await load('resnet_tv_tiny.pth');
  const exp2 = new Map([['features.conv1.weight', [2, 3, 7, 7]]]);
  const e2 = errorOf(() => matchStateDict(tv, exp2, { remap: resnetKeyRemap(TORCHVISION_RESNET_LAYOUT, MULTIGRAIN_RESNET_LAYOUT), strict: false }));
  assert.match(e2.message, "'features.conv1.weight': model expects [2, 3, 7, 7], checkpoint has [2, 3, 3, 3] (checkpoint key 'conv1.weight')");
  // Non-strict: missing/unexpected are reported, not thrown.
  const r = matchStateDict(tv, new Map([['conv1.weight', [2, 3, 3, 3]], ['extra', [1]]]), { strict: false });
  assert.equal(r.missing, ['extra']);
  assert.ok(r.unexpected.includes('fc.weight'));
});

test('loose scalars: pool.p of shape [1] fits a [] parameter', () => {
  const p = makeHostTensor('f32', [1], new Float32Array([3]));
  const r = matchStateDict(new Map([['pool.p', p]]), new Map([['pool.p', []]]));
  assert.equal(r.tensors.get('pool.p')!.shape, []);
  const e = errorOf(() => matchStateDict(new Map([['pool.p', p]]), new Map([['pool.p', []]]), { looseScalars: false }));
  assert.match(e.message, "'pool.p': model expects [], checkpoint has [1]");
});

test.run();
