// examples/custom-training.ts and examples/embed-and-search.ts run as a user runs them (built to
// build/examples/, each in its own Node process): your own dataset and model trained through
// train() lower the loss and classify the validation stripes; a crop of a committed photo finds
// that photo first among them all.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const test = suite('library examples');
const root = fileURLToPath(new URL('../../../', import.meta.url)); // build/test/examples/ → the repository

async function run(name: string): Promise<{ lines: string[]; last: unknown }> {
  const { stdout } = await promisify(execFile)(process.execPath, [`${root}build/examples/${name}.js`], { cwd: root, timeout: 300_000 });
  const lines = stdout.trim().split('\n');
  return { lines, last: JSON.parse(lines.at(-1)!) };
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

test('custom-training: the loss of your own model on your own data goes down; callbacks ran', async () => {
  const { lines, last } = await run('custom-training');
  const { losses, valTop1, checkpoint } = last as { losses: number[]; valTop1: number[]; checkpoint: string };
  assert.ok(losses.length >= 40 && losses.every(Number.isFinite), `one finite loss per step: ${losses}`);
  assert.ok(mean(losses.slice(-8)) < mean(losses.slice(0, 4)) / 3, `the loss falls: ${losses}`);
  assert.ok(valTop1.at(-1)! >= 80, `validation top-1 ${valTop1}`);
  assert.is(checkpoint, 'stripes/checkpoint_6.safetensors');
  assert.is(lines.filter((l) => /^saved stripes\/checkpoint_\d\.safetensors$/.test(l)).length, 6, 'onCheckpoint once per epoch');
  assert.is(lines.filter((l) => /^epoch \d: val top-1/.test(l)).length, 6, 'onEpoch once per epoch');
});

test('embed-and-search: a crop of a photo finds that photo first', async () => {
  const { last } = await run('embed-and-search');
  const { ranking, scores } = last as { ranking: string[]; scores: number[] };
  assert.equal([...ranking].sort(), ['astronaut.png', 'chelsea.jpg', 'coffee.webp', 'rocket.jpg']);
  assert.is(ranking[0], 'chelsea.jpg');
  assert.ok(scores.every((s, i) => i === 0 || s <= scores[i - 1]!), `scores descend: ${scores}`);
});

test('docs/library.md shows both examples verbatim', () => {
  const doc = readFileSync(`${root}docs/library.md`, 'utf8');
  for (const name of ['custom-training', 'embed-and-search']) {
    assert.ok(doc.includes(readFileSync(`${root}examples/${name}.ts`, 'utf8')), `docs/library.md shows examples/${name}.ts`);
  }
});

test.run();
