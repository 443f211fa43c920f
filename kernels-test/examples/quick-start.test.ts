// examples/quick-start.ts, the README's library example: it runs (built by tools/build.mjs to
// build/examples/, in its own Node process, as a user would run it), its loss falls and its
// embedding finds each image's twin; and the README shows exactly that file.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const test = suite('examples');
const root = fileURLToPath(new URL('../../../', import.meta.url)); // build/test/examples/ → the repository

test('the README shows examples/quick-start.ts verbatim', () => {
  const readme = readFileSync(`${root}README.md`, 'utf8');
  const block = /```ts\n([\s\S]*?)```/.exec(readme);
  assert.ok(block, 'README.md has a ```ts block');
  assert.fixture(block[1], readFileSync(`${root}examples/quick-start.ts`, 'utf8'));
});

test('examples/quick-start.ts trains, and its embedding pairs each image with its twin', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, [`${root}build/examples/quick-start.js`],
    { cwd: root, timeout: 180_000 });
  const { losses, nearest } = JSON.parse(stdout.trim().split('\n').at(-1)!) as { losses: number[]; nearest: number[] };
  assert.is(losses.length, 8);
  assert.ok(losses.every(Number.isFinite), `finite losses: ${losses}`);
  assert.ok(losses.at(-1)! < losses[0]! / 2, `the joint loss falls: ${losses}`);
  assert.equal(nearest, [1, 0, 3, 2, 5, 4, 7, 6]);
});

test.run();
