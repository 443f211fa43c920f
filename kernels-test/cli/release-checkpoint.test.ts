// `multigrain evaluate --resume-from` a checkpoint of the original release's pipeline, as its
// whiten.py writes it (model_state only; tools/gen_release_fixture.py): no flag is needed to
// use the p (2.25, learned by its finetune_p.py) and the whitening the file stores, nor to
// evaluate at the original's 500 px rect; the original's experiment folder (checkpoint_N.pth)
// opens too, with the scale its whiten_args.yaml records. The printed top-1 / cross-entropy are those of the library's model opened from the
// same file (itself checked against PyTorch in multigrain/pth-import), and --pooling-exponent wins.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, copyFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { init, DataLoader, openMultiGrain, openValidationData, tensor, noGrad, type MultiGrain, type Shape } from '../../src/index.js';
import { scratchDir } from '../scratch-dir.js';

const test = suite('release checkpoint');
const CLI = resolve('dist/node/cli.js');
const FOLDER = 'kernels-test/multigrain/fixtures/release/finetune500_whitened';
const FILE = `${FOLDER}/checkpoint_1.pth`;
const CLASSES = 10;

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args, '--workers', '0'], { encoding: 'utf8', timeout: 180_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** An image folder (train/ and val/) of 10 classes, one small image each, of different colours. */
async function imageFolder(root: string): Promise<void> {
  for (const split of ['train', 'val']) {
    for (let c = 0; c < CLASSES; c++) {
      mkdirSync(join(root, split, `c${c}`), { recursive: true });
      const background = { r: (37 * c) % 256, g: (91 * c + 40) % 256, b: 255 - 23 * c };
      await sharp({ create: { width: 40, height: 32, channels: 3, background } }).png().toFile(join(root, split, `c${c}`, 'x.png'));
    }
  }
}

/** top-1 (%) and mean cross-entropy of the model on the folder's val/ at rect 500, computed here. */
async function reference(model: MultiGrain, root: string): Promise<{ top1: number; ce: number }> {
  const { val } = await openValidationData('imagefolder', root, 0);
  const loader = new DataLoader({ dataset: val, transform: { kind: 'val', mode: 'rect', size: 500 }, workers: 0 });
  model.eval();
  let [hits, ce, n] = [0, 0, 0];
  for await (const b of loader.evaluation({ batchSize: 10 })) {
    const logits = noGrad(() => model.forward(tensor(b.images, b.shape as Shape)).logits);
    const z = await logits.toArray();
    logits.dispose();
    b.labels.forEach((label, i) => {
      const row = Array.from(z.subarray(i * CLASSES, (i + 1) * CLASSES));
      hits += row.every((v) => v <= row[label]!) ? 1 : 0;
      const max = Math.max(...row);
      ce += Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0)) + max - row[label]!;
      n++;
    });
  }
  await loader.close();
  return { top1: (100 * hits) / n, ce: ce / n };
}

function printed(stdout: string): { top1: number; ce: number } {
  const m = /top-1 ([\d.]+)%, top-5 [\d.]+%, cross-entropy ([\d.]+) on 10 images \(rect 500\)/.exec(stdout);
  assert.ok(m, stdout);
  return { top1: Number(m![1]), ce: Number(m![2]) };
}

test('evaluate --resume-from the whitened release file: its p and whitening, 500 rect, no extra flag', async () => {
  await init();
  const root = join(scratchDir('release'), 'folder');
  await imageFolder(root);
  const { model } = await openMultiGrain(FILE);
  const ref = await reference(model, root);

  const ev = cli('evaluate', '--resume-from', FILE, '--dataset', 'imagefolder', '--data-path', root);
  assert.is(ev.status, 0, ev.stderr);
  assert.ok(ev.stdout.includes(`evaluate: p = 2.25 (pool.p of ${FILE}); rect 500 (the default for a .pth (the original's evaluate.py)); whitened (the checkpoint's PCA)`), ev.stdout);
  const got = printed(ev.stdout);
  assert.is(got.top1.toFixed(2), ref.top1.toFixed(2));
  assert.ok(Math.abs(got.ce - ref.ce) <= 6e-5, `cross-entropy: CLI ${got.ce}, library ${ref.ce}`);

  // an explicit p wins, and changes the result; the original's experiment folder (its checkpoint_<epoch>.pth) opens as well
  const flag = cli('evaluate', '--resume-from', FOLDER, '--dataset', 'imagefolder', '--data-path', root, '--pooling-exponent', '4');
  assert.is(flag.status, 0, flag.stderr);
  assert.ok(flag.stdout.includes('evaluate: p = 4 (--pooling-exponent)') && flag.stdout.includes(`${FILE}: top-1`), flag.stdout);

  // the original's whiten.py folder records its scale in whiten_args.yaml (yaml.dump of its arguments): used
  const scratch = scratchDir('release-yaml');
  copyFileSync(FILE, join(scratch, 'checkpoint_1.pth'));
  writeFileSync(join(scratch, 'whiten_args.yaml'), 'batch_size: 8\ninput_crop: rect\ninput_size: 64\nno_include_last: false\n');
  const yaml = cli('evaluate', '--resume-from', scratch, '--dataset', 'imagefolder', '--data-path', root);
  assert.is(yaml.status, 0, yaml.stderr);
  assert.ok(yaml.stdout.includes(`p = 2.25 (pool.p of ${join(scratch, 'checkpoint_1.pth')}); rect 64 (from ${join(scratch, 'whiten_args.yaml')})`), yaml.stdout);
  assert.match(yaml.stdout, /on 10 images \(rect 64\)/);

  model.pool.p.assign(Float32Array.of(4));
  const at4 = await reference(model, root);
  assert.ok(Math.abs(printed(flag.stdout).ce - at4.ce) <= 6e-5 && Math.abs(at4.ce - ref.ce) > 1e-3, `p = 4: CLI ${printed(flag.stdout).ce}, library ${at4.ce}, at 2.25 ${ref.ce}`);
  model.parameters().forEach((t) => t.dispose());
});

test.run();
