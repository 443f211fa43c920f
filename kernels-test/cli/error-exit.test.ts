// One error, one message, a non-zero exit: `whiten` in rect mode on a folder with an image that
// cannot be decoded. It used to print the message and then, in some runs, an uncaught
// "the engine is not initialized" from readbacks disposed after shutdown(), or, in about one
// run in five, nothing at all and exit code 13 (the data workers' terminate() never settled).
// The failure is timing-dependent, so the command runs several times.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { init, train } from '../../src/index.js';
import { scratchDir } from '../scratch-dir.js';

const test = suite('cli error exit');
const CLI = resolve('dist/node/cli.js');

function cli(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('close', (status) => {
      clearTimeout(timer);
      done({ status, stdout, stderr });
    });
  });
}

test('whiten (rect) with an undecodable image: one message naming it, exit 1, every run', async () => {
  await init();
  const dir = scratchDir('error-exit');
  const run = join(dir, 'run');
  await train({
    expdir: run, dataset: 'fashion-mnist', backbone: 18, baseWidth: 2, inputSize: 32, batchSize: 12, repeatedAugmentations: 3,
    classifWeight: 0.5, poolingExponent: 3, epochs: 1, epochLenFactor: 1, learningRate: 0.5, lrScaling: 'linear', lrDropsEpochs: [], lrDropsFactors: [],
    trainSubset: 36, valSubset: 12, workers: 1, validateFirst: false, progress: false,
  }, () => undefined);
  const images = join(dir, 'images');
  mkdirSync(images);
  for (let i = 0; i < 12; i++) {
    const w = 40 + (i % 3) * 8; // several sizes: rect mode ends a batch at each size change
    await sharp(Buffer.alloc(w * 32 * 3, i * 20), { raw: { width: w, height: 32, channels: 3 } }).jpeg().toFile(join(images, `${String(i).padStart(2, '0')}.jpg`));
  }
  writeFileSync(join(images, '10b.jpg'), 'not a jpeg');
  for (let attempt = 0; attempt < 6; attempt++) {
    const r = await cli(['whiten', '--resume-from', run, '--whiten-path', images, '--expdir', join(dir, 'wh'),
      '--workers', '1', '--batch-size', '1', '--input-size', '64', '--input-crop', 'rect']);
    // stderr also carries Dawn's adapter warnings and the progress bar (`whiten ██░░ 1/13 ...`)
    const lines = r.stderr.split(/[\r\n]+/).filter((l) => l.trim() && !l.startsWith('Warning: ') && !l.startsWith('whiten '));
    assert.is(r.status, 1, `run ${attempt}: exit status (stderr: ${r.stderr})`);
    assert.equal(lines.length, 1, `run ${attempt}: one message, got:\n${lines.join('\n')}`);
    assert.match(lines[0]!, /^multigrain whiten: cannot decode image .*10b\.jpg/);
  }
});

test.run();
