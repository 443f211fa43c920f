// `multigrain embed` from the command line: a folder of photos into embeddings.npy +
// paths.txt at the scale the experiment folder records, a run stopped after one chunk that a
// rerun finishes with the same bytes as one go, a list file, and bad input refused by name
// (missing checkpoint, empty folder, unreadable image, another job in the output folder).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { init, runtime, MultiGrain, decodeNpy } from '../../src/index.js';
import { writeDerived } from '../../src/cli/source.js';
import { scratchDir } from '../scratch-dir.js';

const test = suite('embed-cli');
const CLI = resolve('dist/node/cli.js');

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, 'embed', ...args, '--workers', '1'], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** An experiment folder trained at 32 px (train_args.json), so its test scale is 32 x 500/224 = 71. */
async function experiment(): Promise<{ run: string; dim: number }> {
  await init();
  const run = join(scratchDir('embed-run'), 'run');
  const model = new MultiGrain({ backbone: 18, numClasses: 4, baseWidth: 2, poolingExponent: 3, seed: 2 });
  await writeDerived(run, 'train', { inputSize: 32 }, model, {});
  const dim = model.embeddingDim;
  model.parameters().forEach((t) => t.dispose());
  return { run, dim };
}

/** 6 generated JPEGs of 3 sizes in two folders, plus the committed photos. */
async function images(): Promise<string> {
  const root = scratchDir('embed-cli-images');
  mkdirSync(join(root, 'sub'));
  let s = 3;
  const rand = (): number => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const sizes: [number, number][] = [[80, 60], [60, 80], [90, 90]];
  for (let i = 0; i < 6; i++) {
    const [w, h] = sizes[i % 3]!;
    const px = Buffer.from(Array.from({ length: w * h * 3 }, () => Math.floor(rand() * 256)));
    await sharp(px, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 90 }).toFile(join(root, i < 3 ? '' : 'sub', `g${i}.jpg`));
  }
  for (const p of ['astronaut.png', 'chelsea.jpg', 'coffee.webp', 'rocket.jpg']) copyFileSync(join('kernels-test/fixtures/images', p), join(root, p));
  return root;
}

const lines = (file: string): string[] => readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');

test('a folder at the recorded scale; stopped after one chunk, resumed, same bytes as one go', async () => {
  const { run, dim } = await experiment();
  const root = await images();
  const out = join(scratchDir('embed-cli-out'), 'emb');
  const a = cli('--checkpoint', run, '--data-path', root, '--output', out, '--chunk-size', '4', '--max-chunks', '1', '--batch-size', '8');
  assert.is(a.status, 0, a.stderr);
  assert.match(a.stdout, /embedding 10 images with .*checkpoint_1\.safetensors at rect 71/);
  assert.match(a.stdout, /stopped after 1 chunk\(s\) \(--max-chunks\); rerun the same command to continue/);
  assert.not.ok(existsSync(join(out, 'embeddings.npy')));

  const b = cli('--checkpoint', run, '--data-path', root, '--output', out, '--chunk-size', '4', '--batch-size', '8');
  assert.is(b.status, 0, b.stderr);
  assert.match(b.stdout, /embedded 6 images in \d+ forward passes, [\d.]+ img\/s, 1 chunk\(s\) done by an earlier run/);
  assert.match(b.stdout, new RegExp(`wrote .*embeddings\\.npy \\[10, ${dim}\\]`));
  assert.not.ok(existsSync(join(out, 'chunks')), 'the chunks folder is removed');
  const npy = decodeNpy(new Uint8Array(readFileSync(join(out, 'embeddings.npy'))));
  assert.equal(npy.shape, [10, dim]);
  const expected = ['astronaut.png', 'chelsea.jpg', 'coffee.webp', 'g0.jpg', 'g1.jpg', 'g2.jpg', 'rocket.jpg', 'sub/g3.jpg', 'sub/g4.jpg', 'sub/g5.jpg'].map((p) => join(root, p));
  assert.equal(lines(join(out, 'paths.txt')), expected);
  const args = JSON.parse(readFileSync(join(out, 'embed_args.json'), 'utf8'));
  assert.equal([args.checkpoint, args.inputSize, args.inputCrop, args.embeddingDim, args.whitened, args.dataPath], [join(run, 'checkpoint_1.safetensors'), 71, 'rect', dim, false, root]);

  const once = join(scratchDir('embed-cli-once'), 'emb');
  const c = cli('--checkpoint', run, '--data-path', root, '--output', once, '--chunk-size', '4', '--batch-size', '8', '--safetensors');
  assert.is(c.status, 0, c.stderr);
  assert.ok(readFileSync(join(once, 'embeddings.npy')).equals(readFileSync(join(out, 'embeddings.npy'))), 'resumed = one go');
  assert.ok(existsSync(join(once, 'embeddings.safetensors')));

  const other = cli('--checkpoint', run, '--data-path', root, '--output', out, '--chunk-size', '4', '--input-size', '64');
  assert.is(other.status, 1);
  assert.match(other.stderr, /embed_args\.json records another embedding job \(inputSize: 71 there, 64 now\); rerun with the same settings/);

  // a list file, relative to its folder
  writeFileSync(join(root, 'list.txt'), 'chelsea.jpg\n# a comment\nsub/g3.jpg\n');
  const listed = join(scratchDir('embed-cli-list'), 'emb');
  const d = cli('--checkpoint', join(run, 'checkpoint_1.safetensors'), '--list', join(root, 'list.txt'), '--output', listed, '--input-size', '64', '--input-crop', 'square');
  assert.is(d.status, 0, d.stderr);
  assert.equal(lines(join(listed, 'paths.txt')), [join(root, 'chelsea.jpg'), join(root, 'sub/g3.jpg')]);
  assert.equal(JSON.parse(readFileSync(join(listed, 'embed_args.json'), 'utf8')).inputCrop, 'square');
  // a checkpoint file records no scale: 500, the original's (as for a .pth)
  writeFileSync(join(root, 'one.txt'), 'astronaut.png\n');
  const bare = join(scratchDir('embed-cli-bare'), 'emb');
  const e = cli('--checkpoint', join(run, 'checkpoint_1.safetensors'), '--list', join(root, 'one.txt'), '--output', bare);
  assert.is(e.status, 0, e.stderr);
  assert.match(e.stdout, /at rect 500/);
  assert.is(JSON.parse(readFileSync(join(bare, 'embed_args.json'), 'utf8')).inputSize, 500);
});

// --precision f16 where the adapter has shader-f16 (lavapipe: yes): same rows, embeddings
// within EMBED_F16_TOL of the f32 ones (max error over the largest value, per image; measured
// on lavapipe: 8.8e-4); recorded in embed_args.json so that a resumed run cannot mix
// precisions. Without the feature the run says so and writes the f32 embeddings.
const EMBED_F16_TOL = 5e-3;

test('--precision f16: the run says which precision and why; embeddings within a stated error of f32', async () => {
  const { run, dim } = await experiment();
  const hasF16 = runtime().gpu.hasF16;
  const root = await images();
  const base = scratchDir('embed-cli-precision');
  const a = cli('--checkpoint', run, '--data-path', root, '--output', join(base, 'f32'), '--batch-size', '8');
  assert.is(a.status, 0, a.stderr);
  assert.match(a.stdout, /embed: precision f32 \(asked for\)/);
  const b = cli('--checkpoint', run, '--data-path', root, '--output', join(base, 'f16'), '--batch-size', '8', '--precision', 'f16');
  assert.is(b.status, 0, b.stderr);
  if (!hasF16) {
    assert.match(b.stderr, /embed: precision f32 \(f16 was asked for but the device has no 'shader-f16' feature\)/);
    return;
  }
  assert.match(b.stdout, /embed: precision f16 \(f16 weights and activations, f32 accumulation: the device has 'shader-f16'\)/);
  assert.equal(lines(join(base, 'f16', 'paths.txt')), lines(join(base, 'f32', 'paths.txt')));
  assert.is(JSON.parse(readFileSync(join(base, 'f16', 'embed_args.json'), 'utf8')).precision, 'f16');
  assert.is(JSON.parse(readFileSync(join(base, 'f32', 'embed_args.json'), 'utf8')).precision, undefined);
  const e32 = decodeNpy(new Uint8Array(readFileSync(join(base, 'f32', 'embeddings.npy'))));
  const e16 = decodeNpy(new Uint8Array(readFileSync(join(base, 'f16', 'embeddings.npy'))));
  assert.equal(e16.shape, [10, dim]);
  let worst = 0;
  for (let r = 0; r < 10; r++) {
    let err = 0;
    let ref = 0;
    for (let j = 0; j < dim; j++) {
      const x = e32.data[r * dim + j] as number;
      err = Math.max(err, Math.abs((e16.data[r * dim + j] as number) - x));
      ref = Math.max(ref, Math.abs(x));
    }
    worst = Math.max(worst, err / ref);
  }
  console.log(`  embed --precision f16: worst per-image relative error ${worst.toExponential(2)}`);
  assert.ok(worst < EMBED_F16_TOL, `f16 embeddings ${worst.toExponential(2)} from f32, above ${EMBED_F16_TOL}`);
  // resuming the f16 folder in f32 is another job
  const c = cli('--checkpoint', run, '--data-path', root, '--output', join(base, 'f16'), '--batch-size', '8');
  assert.is(c.status, 1);
  assert.match(c.stderr, /embed_args\.json records another embedding job \(precision: "?f16"? there/);
});

test('bad input: missing checkpoint, no images, an unreadable image (stops, or skipped and listed)', async () => {
  const { run } = await experiment();
  const dir = scratchDir('embed-cli-bad');
  const missing = cli('--checkpoint', join(dir, 'nope.pth'), '--data-path', dir, '--output', join(dir, 'o'));
  assert.is(missing.status, 1);
  assert.match(missing.stderr, /multigrain embed: --checkpoint .*nope\.pth: no such file or folder/);

  mkdirSync(join(dir, 'empty'));
  const empty = cli('--checkpoint', run, '--data-path', join(dir, 'empty'), '--output', join(dir, 'o'));
  assert.is(empty.status, 1);
  assert.match(empty.stderr, /--data-path .*empty: no images there/);
  const neither = cli('--checkpoint', run, '--output', join(dir, 'o'));
  assert.match(neither.stderr, /one of --data-path <folder> or --list <file>/);

  const root = await images();
  writeFileSync(join(root, 'broken.jpg'), 'not an image');
  const stopped = cli('--checkpoint', run, '--data-path', root, '--output', join(dir, 'stop'));
  assert.is(stopped.status, 1);
  assert.match(stopped.stderr, /cannot decode image .*broken\.jpg.*--skip-unreadable leaves such files out/);

  const skip = cli('--checkpoint', run, '--data-path', root, '--output', join(dir, 'skip'), '--skip-unreadable');
  assert.is(skip.status, 0, skip.stderr);
  assert.match(skip.stdout, new RegExp(`skipped 1 unreadable image\\(s\\) \\(listed in .*skipped\\.txt\\):\\n  ${join(root, 'broken.jpg')}`));
  assert.equal(lines(join(dir, 'skip', 'skipped.txt')), [join(root, 'broken.jpg')]);
  assert.is(lines(join(dir, 'skip', 'paths.txt')).length, 10);
});

test.run();
