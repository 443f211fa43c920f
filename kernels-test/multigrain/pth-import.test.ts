// End-to-end PyTorch import: the original MultiGrain release's checkpoints and torchvision
// ResNet state dicts, loaded with our loaders into `MultiGrain`, give PyTorch's outputs.
// Fixtures: tools/gen_multigrain_pth_fixtures.py (Debian torch 1.13) builds a tiny MultiGrain
// exactly as the original does (torchvision ResNet children[:-2] as `features`, GeM `pool.p`
// as a 0-d buffer, `classifier`) and saves
//   mg_r50w2_zip.pth / mg_r50w2_legacy.pth  {model_state, optimizer_state, extra: {beta}}, ResNet-50
//                                           layout at base width 2 (d = 64), 10 classes, p = 3
//   mg_r18w2_white_legacy.pth               a whitened checkpoint (ResNet-18 layout, d + 1 = 17:
//                                           whitening.pca.pca_m/pca_P, classifier [10, 17])
//   tv_r18w2.pth                            a torchvision ResNet-18 state dict (conv1 ... fc)
//   expected.safetensors                    PyTorch float64 outputs of the float32 weights
// on a 2x3x64x64 batch and a non-square 1x3x48x80 image (inputs rebuilt here by the generator's
// integer hash). Tolerance: max |ours - PyTorch| <= 1e-4 x max |PyTorch| per output tensor.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  init, tensor, noGrad, readSafetensors, castHostTensor, MultiGrain, loadMultiGrainWeights, loadPretrainedTrunk,
  readStateDict, saveCheckpointFile, makeHostTensor, hostTensorToFloat32, openMultiGrain, inferArchitecture, type StateDict, type Tensor,
} from '../../src/index.js';

const DIR = 'kernels-test/multigrain/fixtures/pth/';
const REL_TOL = 1e-4;
const INPUTS = { a: { shape: [2, 3, 64, 64], seed: 1 }, b: { shape: [1, 3, 48, 80], seed: 2 } } as const;
type ImageName = keyof typeof INPUTS;
const IMAGES = Object.keys(INPUTS) as ImageName[];

const test = suite('multigrain pth import');
let expected: StateDict;
const inputs = new Map<ImageName, Tensor>();
let scratch = '';

/** The generator's `fixture_input`: x[i] = ((h(i) >> 8) % 1025 - 512) / 256, h a 32-bit integer hash. */
function fixtureInput(shape: readonly number[], seed: number): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let h = (Math.imul(i, 0x9e3779b1) + Math.imul(seed, 0x85ebca77)) >>> 0;
    h = (h ^ (h >>> 15)) >>> 0;
    h = Math.imul(h, 0x2c1b3c6d) >>> 0;
    h = (h ^ (h >>> 12)) >>> 0;
    h = Math.imul(h, 0x297a2d39) >>> 0;
    h = (h ^ (h >>> 15)) >>> 0;
    out[i] = (((h >>> 8) % 1025) - 512) / 256;
  }
  return out;
}

function ref(name: string): { data: Float64Array; shape: number[] } {
  const t = expected.get(name);
  if (!t) throw new Error(`expected.safetensors has no '${name}'`);
  return { data: castHostTensor(t, 'f64').data as Float64Array, shape: t.shape };
}

/** Max-abs error relative to the largest reference magnitude; asserts shape and tolerance. */
async function compare(actual: Tensor, name: string, tol = REL_TOL): Promise<number> {
  const e = ref(name);
  assert.equal([...actual.shape], e.shape, `${name}: shape`);
  const a = await actual.toArray();
  let maxErr = 0;
  let maxRef = 0;
  for (let i = 0; i < e.data.length; i++) {
    maxErr = Math.max(maxErr, Math.abs(a[i] - e.data[i]));
    maxRef = Math.max(maxRef, Math.abs(e.data[i]));
    if (Number.isNaN(a[i])) maxErr = Infinity;
  }
  const rel = maxErr / Math.max(maxRef, 1e-30);
  assert.ok(rel <= tol, `${name}: max error ${maxErr.toExponential(2)} = ${rel.toExponential(2)} of max |ref| ${maxRef.toPrecision(4)} (tolerance ${tol})`);
  return rel;
}

/** Eval-mode forward of each input; checks logits, embedding and normalized embedding against `prefix`. */
async function checkOutputs(model: MultiGrain, prefix: string): Promise<void> {
  model.eval();
  for (const img of IMAGES) {
    const out = noGrad(() => model.forward(inputs.get(img)!));
    await compare(out.logits, `${prefix}.${img}.logits`);
    await compare(out.embedding, `${prefix}.${img}.embedding`);
    await compare(out.normalizedEmbedding, `${prefix}.${img}.normalized`);
    out.logits.dispose();
    out.embedding.dispose();
    out.normalizedEmbedding.dispose();
  }
}

async function errorOf(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
  } catch (err) {
    return (err as Error).message;
  }
  assert.unreachable('expected an error');
  return '';
}

/** Writes `dict` as one of our checkpoints (model group) in the scratch folder. */
async function writeModelCheckpoint(name: string, dict: StateDict): Promise<string> {
  const path = join(scratch, name);
  await saveCheckpointFile(path, { groups: { model: dict }, meta: {} });
  return path;
}

test.before(async () => {
  await init();
  expected = readSafetensors(new Uint8Array(readFileSync(DIR + 'expected.safetensors'))).tensors;
  for (const img of IMAGES) {
    const { shape, seed } = INPUTS[img];
    const data = fixtureInput(shape, seed);
    const head = ref(`input.${img}.head`).data;
    for (let i = 0; i < head.length; i++) assert.is(data[i], head[i], `input ${img}[${i}]: the test's input generator differs from the fixture's`);
    inputs.set(img, tensor(data, [...shape]));
  }
  scratch = mkdtempSync(join(tmpdir(), 'mg-pth-'));
});

test.after(() => {
  rmSync(scratch, { recursive: true, force: true });
});

test('original checkpoint (zip and legacy torch.save): model_state loads, logits and embeddings match PyTorch', async () => {
  const zip = await readStateDict(DIR + 'mg_r50w2_zip.pth');
  const legacy = await readStateDict(DIR + 'mg_r50w2_legacy.pth');
  assert.equal([...legacy.keys()], [...zip.keys()], 'same keys in both formats');
  for (const [k, t] of zip) {
    assert.equal(legacy.get(k)!.shape, t.shape, `${k}: shape`);
    assert.equal(Array.from(legacy.get(k)!.data as ArrayLike<number | bigint>), Array.from(t.data as ArrayLike<number | bigint>), `${k}: values`);
  }
  assert.is(zip.get('features.layer1.0.downsample.1.num_batches_tracked')!.dtype, 'i64');
  assert.equal(zip.get('pool.p')!.shape, [], 'pool.p is a 0-d buffer in the original');

  // p = 1 here on purpose: the checkpoint's pool.p (3) must replace it
  const model = new MultiGrain({ backbone: 50, baseWidth: 2, numClasses: 10, poolingExponent: 1, seed: 5 });
  for (const file of ['mg_r50w2_zip.pth', 'mg_r50w2_legacy.pth']) {
    model.pool.p.assign(new Float32Array([1]));
    await loadMultiGrainWeights(model, DIR + file);
    assert.equal(Array.from(await model.pool.p.toArray()), [3], `${file}: pool.p`);
    assert.is(model.whitening, null);
    await checkOutputs(model, 'plain');
  }
});

test('whitened checkpoint: keys turn on whitening (bias channel, PCA, d+1 classifier); outputs match PyTorch', async () => {
  const model = new MultiGrain({ backbone: 18, baseWidth: 2, numClasses: 10, poolingExponent: 3 });
  assert.is(model.embeddingDim, 16);
  await loadMultiGrainWeights(model, DIR + 'mg_r18w2_white_legacy.pth');
  assert.ok(model.whitening, 'whitening enabled by the checkpoint keys');
  assert.is(model.embeddingDim, 17);
  assert.equal([...model.classifier.weight.shape], [10, 17]);
  await checkOutputs(model, 'white');

  // whitening leaves the classification unchanged — logits x (||[e, 1]|| + 1e-6)
  // are the logits before whitening (same class ranking)
  const out = noGrad(() => model.forward(inputs.get('a')!));
  const logits = await out.logits.toArray();
  const norm = ref('white.a.biasnorm').data;
  const before = ref('white_src.a.logits').data;
  const C = 10;
  let maxBefore = 0;
  for (const v of before) maxBefore = Math.max(maxBefore, Math.abs(v));
  for (let n = 0; n < norm.length; n++) {
    for (let c = 0; c < C; c++) {
      const err = Math.abs(logits[n * C + c] * norm[n] - before[n * C + c]);
      assert.ok(err <= 2e-4 * maxBefore, `image ${n} class ${c}: whitened logit x norm ${logits[n * C + c] * norm[n]}, before whitening ${before[n * C + c]}`);
    }
    const argmax = (xs: ArrayLike<number>, o: number) => {
      let best = 0;
      for (let c = 1; c < C; c++) if (xs[o + c] > xs[o + best]) best = c;
      return best;
    };
    assert.is(argmax(logits, n * C), argmax(before, n * C), `image ${n}: top-1 class unchanged by whitening`);
  }
  out.logits.dispose();
  out.embedding.dispose();
  out.normalizedEmbedding.dispose();
});

test('openMultiGrain: the architecture comes from the file (depth, width, classes, p, whitening); outputs match PyTorch', async () => {
  const plain = await openMultiGrain(DIR + 'mg_r50w2_legacy.pth');
  assert.equal(plain.architecture, { backbone: 50, baseWidth: 2, numClasses: 10, poolingExponent: 3, whitened: false });
  await checkOutputs(plain.model, 'plain');
  const white = await openMultiGrain(DIR + 'mg_r18w2_white_legacy.pth');
  assert.equal(white.architecture, { backbone: 18, baseWidth: 2, numClasses: 10, poolingExponent: 3, whitened: true });
  await checkOutputs(white.model, 'white');
  const tv = inferArchitecture(await readStateDict(DIR + 'tv_r18w2.pth'));
  assert.equal(tv, { backbone: 18, baseWidth: 2, numClasses: 10, whitened: false });
  // depths 34 / 101 / 152 by their block counts (keys only)
  const keys = (block: string, counts: number[]): StateDict => {
    const d: StateDict = new Map([['features.conv1.weight', makeHostTensor('f32', [8, 3, 7, 7], new Float32Array(8 * 147))], ['classifier.weight', makeHostTensor('f32', [7, 4], new Float32Array(28))]]);
    counts.forEach((n, l) => {
      for (let b = 0; b < n; b++) {
        for (const c of block === 'bottleneck' ? ['conv1', 'conv3'] : ['conv1']) d.set(`features.layer${l + 1}.${b}.${c}.weight`, makeHostTensor('f32', [1], new Float32Array(1)));
      }
    });
    return d;
  };
  assert.is(inferArchitecture(keys('basic', [3, 4, 6, 3])).backbone, 34);
  assert.is(inferArchitecture(keys('bottleneck', [3, 4, 23, 3])).backbone, 101);
  assert.is(inferArchitecture(keys('bottleneck', [3, 8, 36, 3])).backbone, 152);
  assert.throws(() => inferArchitecture(keys('basic', [2, 2, 3, 2]), 'x.pth'), /x\.pth: basic blocks per stage 2, 2, 3, 2 match no ResNet/);
  assert.throws(() => inferArchitecture(new Map(), 'y.pth'), /y\.pth: not a ResNet \/ MultiGrain state dict/);
  for (const m of [plain.model, white.model]) m.parameters().forEach((t) => t.dispose());
});

test('the release pipeline as its scripts write it: finetune_p.py (model_state + p.* optimizer state) and whiten.py (model_state only); p and whitening from the file', async () => {
  const REL = 'kernels-test/multigrain/fixtures/release/';
  const relExpected = readSafetensors(new Uint8Array(readFileSync(REL + 'expected.safetensors'))).tensors;
  for (const img of IMAGES) {
    const head = castHostTensor(relExpected.get(`input.${img}.head`)!, 'f64').data;
    const data = await inputs.get(img)!.toArray();
    for (let i = 0; i < head.length; i++) assert.is(data[i], head[i], `input ${img}[${i}]`);
  }
  const saved = expected;
  expected = relExpected; // compare() reads the references of `expected`
  try {
    const tuned = await openMultiGrain(REL + 'finetune500/checkpoint_1.pth');
    assert.equal(tuned.architecture, { backbone: 50, baseWidth: 2, numClasses: 10, poolingExponent: 2.25, whitened: false });
    assert.equal(Array.from(await tuned.model.pool.p.toArray()), [2.25], 'the p finetune_p.py learned');
    await checkOutputs(tuned.model, 'finetuned');
    const white = await openMultiGrain(REL + 'finetune500_whitened/checkpoint_1.pth');
    assert.equal(white.architecture, { backbone: 50, baseWidth: 2, numClasses: 10, poolingExponent: 2.25, whitened: true });
    assert.ok(white.model.whitening, 'whitening turned on by the keys');
    assert.equal([...white.model.classifier.weight.shape], [10, 65]);
    await checkOutputs(white.model, 'whitened');
    for (const m of [tuned.model, white.model]) m.parameters().forEach((t) => t.dispose());
  } finally {
    expected = saved;
  }
});

test('torchvision ResNet state dict (--pretrained-backbone): trunk loads, fc ignored; features and GeM match', async () => {
  // 5 classes (the file's fc has 10): the head is not loaded, so the classes need not match
  const model = new MultiGrain({ backbone: 18, baseWidth: 2, numClasses: 5, poolingExponent: 3, seed: 3 });
  const classifierBefore = await model.classifier.weight.toArray();
  await loadPretrainedTrunk(model, DIR + 'tv_r18w2.pth');
  assert.equal(await model.classifier.weight.toArray(), classifierBefore, 'classifier untouched');
  model.eval();
  for (const img of IMAGES) {
    const f = noGrad(() => model.features.features(inputs.get(img)!));
    await compare(f, `tv.${img}.features`);
    f.dispose();
    const out = noGrad(() => model.forward(inputs.get(img)!));
    await compare(out.embedding, `tv.${img}.gem3`);
    out.logits.dispose();
    out.embedding.dispose();
    out.normalizedEmbedding.dispose();
  }

  // the whole-model loader takes a torchvision dict too: fc -> classifier, the model keeps its p
  const whole = new MultiGrain({ backbone: 18, baseWidth: 2, numClasses: 10, poolingExponent: 1 });
  await loadMultiGrainWeights(whole, DIR + 'tv_r18w2.pth');
  const tv = await readStateDict(DIR + 'tv_r18w2.pth');
  assert.equal(Array.from(await whole.classifier.weight.toArray()), Array.from(hostTensorToFloat32(tv.get('fc.weight')!)), 'fc.weight');
  assert.equal(Array.from(await whole.classifier.bias!.toArray()), Array.from(hostTensorToFloat32(tv.get('fc.bias')!)), 'fc.bias');
  assert.equal(Array.from(await whole.pool.p.toArray()), [1], 'pool.p kept');
  whole.eval();
  const f = noGrad(() => whole.features.features(inputs.get('b')!));
  await compare(f, 'tv.b.features');
  f.dispose();
});

test('a MultiGrain checkpoint as --pretrained-backbone: only features.* is taken', async () => {
  const model = new MultiGrain({ backbone: 50, baseWidth: 2, numClasses: 4, poolingExponent: 1 });
  await loadPretrainedTrunk(model, DIR + 'mg_r50w2_legacy.pth');
  const dict = await readStateDict(DIR + 'mg_r50w2_legacy.pth');
  const ours = await model.exportStateDict();
  let compared = 0;
  for (const [k, t] of dict) {
    if (!k.startsWith('features.') || k.endsWith('num_batches_tracked')) continue;
    assert.equal(Array.from(ours.get(k)!.data as Float32Array), Array.from(hostTensorToFloat32(t)), k);
    compared++;
  }
  assert.is(compared, [...ours.keys()].filter((k) => k.startsWith('features.')).length);
  assert.equal(Array.from(ours.get('pool.p')!.data as Float32Array), [1], 'pool.p kept');
});

test('wrong shape, missing key, wrong classes: the error names the key and both shapes; the model is left as it was', async () => {
  const zip = DIR + 'mg_r50w2_zip.pth';
  // a model with 7 classes: classifier.weight [7, 64] vs the checkpoint's [10, 64]
  const seven = new MultiGrain({ backbone: 50, baseWidth: 2, numClasses: 7 });
  let msg = await errorOf(() => loadMultiGrainWeights(seven, zip));
  assert.ok(msg.includes(zip), msg);
  assert.match(msg, /'classifier\.weight'.*\[7, 64\].*\[10, 64\]/);
  assert.match(msg, /'classifier\.bias'.*\[7\].*\[10\]/);

  // the whitened checkpoint into a model with the wrong classes: refused before whitening is turned on
  const r18 = new MultiGrain({ backbone: 18, baseWidth: 2, numClasses: 3 });
  msg = await errorOf(() => loadMultiGrainWeights(r18, DIR + 'mg_r18w2_white_legacy.pth'));
  assert.match(msg, /'classifier\.weight'.*\[3, 17\].*\[10, 17\]/);
  assert.is(r18.whitening, null, 'model unchanged after a failed load');

  // a transposed weight (same rank, same element count) and a missing running_var
  const dict = await readStateDict(zip);
  const key = 'features.layer1.0.conv3.weight';
  const w = dict.get(key)!;
  assert.equal(w.shape, [8, 2, 1, 1]);
  dict.set(key, makeHostTensor('f32', [2, 8, 1, 1], w.data as Float32Array));
  dict.delete('features.layer3.1.bn2.running_var');
  const bad = await writeModelCheckpoint('bad.safetensors', dict);
  const model = new MultiGrain({ backbone: 50, baseWidth: 2, numClasses: 10 });
  const before = await model.features.stateTensors().get('layer1.0.conv3.weight')!.toArray();
  msg = await errorOf(() => loadMultiGrainWeights(model, bad));
  assert.match(msg, /'features\.layer1\.0\.conv3\.weight'.*\[8, 2, 1, 1\].*\[2, 8, 1, 1\]/);
  assert.match(msg, /missing: 'features\.layer3\.1\.bn2\.running_var' \(model expects \[8\]\)/);
  assert.equal(await model.features.stateTensors().get('layer1.0.conv3.weight')!.toArray(), before, 'nothing loaded');
  // Module.loadStateDict itself refuses the transposed tensor (it used to compare only rank and size)
  dict.set('features.layer3.1.bn2.running_var', makeHostTensor('f32', [8], new Float32Array(8).fill(1)));
  msg = await errorOf(async () => model.loadStateDict(dict));
  assert.match(msg, /'features\.layer1\.0\.conv3\.weight': checkpoint \[2, 8, 1, 1\], model \[8, 2, 1, 1\]/);

  // the trunk loader names the model key and the torchvision key
  const tv = await readStateDict(DIR + 'tv_r18w2.pth');
  tv.set('layer4.1.conv2.weight', makeHostTensor('f32', [16, 16, 1, 1], new Float32Array(256)));
  tv.delete('layer2.0.downsample.1.bias');
  const badTv = await writeModelCheckpoint('bad_tv.safetensors', tv);
  msg = await errorOf(() => loadPretrainedTrunk(new MultiGrain({ backbone: 18, baseWidth: 2, numClasses: 10 }), badTv));
  assert.match(msg, /'features\.layer4\.1\.conv2\.weight'.*\[16, 16, 3, 3\].*\[16, 16, 1, 1\].*'layer4\.1\.conv2\.weight'/);
  assert.match(msg, /missing: 'features\.layer2\.0\.downsample\.1\.bias'/);

  // a ResNet-50 checkpoint into a ResNet-18 model: names the unexpected bottleneck keys
  msg = await errorOf(() => loadMultiGrainWeights(new MultiGrain({ backbone: 18, baseWidth: 2, numClasses: 10 }), zip));
  assert.match(msg, /unexpected: 'features\.layer1\.0\.conv3\.weight' \[8, 2, 1, 1\]/);
});

test.run();
