// `multigrain classify IMAGE... --checkpoint C`: the top-k classes of the committed photos with
// their probabilities, named by the checkpoint's class names, at the run's recorded evaluation
// size; checked against a reference made here (decode, the square evaluation transform, the
// model's logits, a float64 softmax) and against the library's classifyImages. A .pth (no
// class names) shows class indices; bad input names the file or flag.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  init, openMultiGrain, encodeCheckpoint, NodeImageDecoder, makeValidationTransform, DataRng, tensor, noGrad, classifyImages,
  type ImageClassification,
} from '../../src/index.js';
import { scratchDir } from '../scratch-dir.js';

const test = suite('cli classify');
const CLI = resolve('dist/node/cli.js');
const PTH = resolve('kernels-test/multigrain/fixtures/pth/mg_r18w2_white_legacy.pth');
const PHOTOS = ['chelsea.jpg', 'rocket.jpg', 'coffee.webp'].map((f) => resolve('kernels-test/fixtures/images', f));
const CLASSES = ['cat', 'rocket', 'coffee', 'astronaut', 'dog', 'car', 'tree', 'boat', 'cup', 'bird'];
const SIZE = 72;
let checkpoint = '';

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, 'classify', ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test.before(async () => {
  await init();
  const { model } = await openMultiGrain(PTH);
  checkpoint = join(scratchDir('classify'), 'checkpoint_1.safetensors');
  writeFileSync(checkpoint, encodeCheckpoint({ groups: { model: await model.exportStateDict() }, meta: { epoch: 1, classes: CLASSES, options: { inputSize: SIZE, valMode: 'square' } } }));
  model.parameters().forEach((t) => t.dispose());
});

/** Probabilities of a photo made here: sharp decode, square evaluation at SIZE, logits, float64 softmax. */
async function reference(photo: string): Promise<number[]> {
  const { model } = await openMultiGrain(checkpoint);
  model.eval();
  const chw = makeValidationTransform('square', SIZE)(await new NodeImageDecoder().decode(photo, { autoOrient: false }), new DataRng(0));
  const logits = noGrad(() => model.forward(tensor(chw.data, [1, 3, SIZE, SIZE])).logits);
  const values = Array.from((await logits.toArray()) as Float32Array);
  logits.dispose();
  model.parameters().forEach((t) => t.dispose());
  const max = Math.max(...values);
  const exp = values.map((v) => Math.exp(v - max));
  const sum = exp.reduce((a, b) => a + b, 0);
  return exp.map((e) => e / sum);
}

test('--json: the top-k of each photo, named, with the probabilities of a reference softmax; the library agrees', async () => {
  const r = cli(...PHOTOS, '--checkpoint', checkpoint, '--top', '3', '--json');
  assert.is(r.status, 0, r.stderr);
  const results = JSON.parse(r.stdout) as ImageClassification[];
  assert.equal(results.map((x) => x.image), PHOTOS);
  for (const [i, result] of results.entries()) {
    const probs = await reference(PHOTOS[i]!);
    const expected = probs.map((p, label) => ({ p, label })).sort((a, b) => b.p - a.p).slice(0, 3);
    assert.equal(result.top.map((c) => c.label), expected.map((e) => e.label), `${PHOTOS[i]}: the 3 most probable classes`);
    assert.equal(result.top.map((c) => c.name), expected.map((e) => CLASSES[e.label]), 'named by the checkpoint');
    result.top.forEach((c, k) => assert.ok(Math.abs(c.probability - expected[k]!.p) < 1e-5, `${c.name}: ${c.probability} vs ${expected[k]!.p}`));
  }
  const { model, classes } = await openMultiGrain(checkpoint);
  const library = await classifyImages(model, PHOTOS, { classes: classes!, top: 3, inputSize: SIZE });
  library.forEach((l, i) => {
    assert.equal(l.top.map((c) => c.label), results[i]!.top.map((c) => c.label), 'the library gives the CLI\'s top-k');
    l.top.forEach((c, k) => assert.ok(Math.abs(c.probability - results[i]!.top[k]!.probability) < 1e-6));
  });
  model.parameters().forEach((t) => t.dispose());
});

test('the table names each image and its classes; a .pth shows class indices with a note', () => {
  const r = cli(PHOTOS[0]!, '--checkpoint', checkpoint);
  assert.is(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.is(lines[0], PHOTOS[0]);
  assert.is(lines.length, 1 + 5, 'five classes by default');
  assert.match(lines[1]!, /^\s+1\s+\d+\.\d\d%\s+(cat|rocket|coffee|astronaut|dog|car|tree|boat|cup|bird)$/);
  const pth = cli(PHOTOS[1]!, '--checkpoint', PTH, '--top', '2', '--input-size', '64');
  assert.is(pth.status, 0, pth.stderr);
  assert.match(pth.stdout, /records no class names/);
  assert.match(pth.stdout, /\s+1\s+\d+\.\d\d%\s+class \d$/m);
});

test('bad input is named: a missing image, no checkpoint, no image', () => {
  const missing = cli('/nonexistent/photo.jpg', '--checkpoint', checkpoint);
  assert.is(missing.status, 1);
  assert.match(missing.stderr, /\/nonexistent\/photo\.jpg: no such image file/);
  const noCkpt = cli(PHOTOS[0]!);
  assert.is(noCkpt.status, 1);
  assert.match(noCkpt.stderr, /--checkpoint <checkpoint file or experiment folder> is required/);
  const noImage = cli('--checkpoint', checkpoint);
  assert.is(noImage.status, 1);
  assert.match(noImage.stderr, /no image given/);
  // a wide photo in rect mode at a small size: its short side falls below what the trunk takes
  const tooSmall = cli(PHOTOS[0]!, '--checkpoint', checkpoint, '--input-crop', 'rect', '--input-size', '24');
  assert.is(tooSmall.status, 1);
  assert.match(tooSmall.stderr, /chelsea\.jpg: at rect 24 it becomes 24x\d+, which the model cannot take/);
  assert.match(tooSmall.stderr, /--input-crop square/);
  const badTop = cli(PHOTOS[0]!, '--checkpoint', checkpoint, '--top', '0');
  assert.is(badTop.status, 1);
  assert.match(badTop.stderr, /--top/);
});

test.run();
