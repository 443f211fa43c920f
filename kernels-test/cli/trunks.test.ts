// The other trunks from the command line: `multigrain train --backbone nasnetamobile
// --pretrained-backbone <Cadene ImageNet .pth>` trains one tiny step (the widths of the reduced
// fixture net read from the file, mean/std 0.5 inputs) and `multigrain evaluate` reopens the
// checkpoint by its keys.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { scratchDir } from '../scratch-dir.js';

const test = suite('cli-trunks');
const CLI = resolve('dist/node/cli.js');

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args, '--workers', '1'], { encoding: 'utf8', timeout: 180_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('train one step of NASNet-A-Mobile from a pretrained file, then evaluate it', () => {
  const run = join(scratchDir('cli-trunks'), 'run');
  const tr = cli('train', '--expdir', run, '--dataset', 'fashion-mnist', '--backbone', 'nasnetamobile',
    '--pretrained-backbone', 'kernels-test/nn/fixtures/nasnetamobile_imagenet.pth', '--input-size', '32', '--batch-size', '4',
    '--repeated-augmentations', '2', '--classif-weight', '0.5', '--epochs', '1', '--epoch-len-factor', '1', '--train-subset', '4',
    '--val-subset', '4', '--no-validate-first');
  assert.is(tr.status, 0, tr.stderr + tr.stdout);
  assert.match(tr.stdout + tr.stderr, /loaded the trunk from .*nasnetamobile_imagenet\.pth/);
  const args = JSON.parse(readFileSync(join(run, 'train_args.json'), 'utf8'));
  assert.is(args.backbone ?? args['backbone'], 'nasnetamobile');
  const ev = cli('evaluate', '--resume-from', run, '--val-subset', '4');
  assert.is(ev.status, 0, ev.stderr + ev.stdout);
  assert.match(ev.stdout, /top-1 [\d.]+%, top-5 [\d.]+%/);
});

test.run();
