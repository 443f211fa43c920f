// The file store the layers above io use instead of node:fs / node:path: the pure path join
// agrees with node:path's posix join, the in-memory store behaves like the disk one, and the
// checkpoint lookup of the training program works through either.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { posix } from 'node:path';
import { joinPath, readTextFile, MemoryFileStore, nodeFileStore, listCheckpoints, resolveResume, type FileStore } from '../../src/index.js';
import { scratchDir } from '../scratch-dir.js';

test('joinPath: same result as node:path posix join', () => {
  const cases: string[][] = [
    ['a', 'b'], ['a/', 'b'], ['a', '/b'], ['/a', 'b/'], ['experiments/x', 'checkpoint_1.safetensors'], ['./a', '.', 'b'],
    ['a', '..', 'b'], ['a', '..', '..', 'b'], ['/a', '..', '..', 'b'], ['', 'a'], ['a', ''], [''], ['.'], ['a//b', 'c'],
    ['/'], ['..', 'a'], ['a/b/../../..'], ['/tmp/mg-x', 'train'],
  ];
  for (const parts of cases) assert.is(joinPath(...parts), posix.join(...parts), JSON.stringify(parts));
});

async function exercise(files: FileStore, root: string): Promise<void> {
  const dir = joinPath(root, 'run', 'sub');
  assert.is(await files.stat(dir), null, 'missing');
  await files.mkdir(dir);
  await files.mkdir(dir); // no error when it exists
  assert.equal(await files.stat(dir), { isFile: false, isDirectory: true, size: 0 });
  await files.writeFileAtomic(joinPath(dir, 'a.json'), '{"x":1}');
  await files.writeFileAtomic(joinPath(dir, 'b.bin'), new Uint8Array([1, 2, 3]));
  assert.equal(await files.stat(joinPath(dir, 'b.bin')), { isFile: true, isDirectory: false, size: 3 });
  assert.equal([...(await files.readFile(joinPath(dir, 'b.bin')))], [1, 2, 3]);
  assert.is(await readTextFile(files, joinPath(dir, 'a.json')), '{"x":1}');
  assert.is(await readTextFile(files, joinPath(dir, 'none.json')), null);
  assert.equal((await files.list(dir)).sort(), ['a.json', 'b.bin']);
  assert.equal(await files.list(joinPath(root, 'run')), ['sub']);
  await files.remove(joinPath(dir, 'a.json'));
  await files.remove(joinPath(dir, 'a.json')); // already gone: no error
  assert.equal(await files.list(dir), ['b.bin']);
  let threw = false;
  await files.list(joinPath(root, 'nothing')).catch(() => { threw = true; });
  assert.ok(threw, 'list of a missing folder throws');
}

test('MemoryFileStore: mkdir, write, read, list, remove, stat', async () => {
  await exercise(new MemoryFileStore(), 'mem');
  await exercise(new MemoryFileStore(), '/abs');
});

test('nodeFileStore: the same on disk', async () => {
  const root = scratchDir('file-store');
  await exercise(nodeFileStore, root);
  assert.is(readFileSync(joinPath(root, 'run/sub/b.bin')).length, 3);
  writeFileSync(joinPath(root, 'run/sub/c.txt'), 'c');
  assert.ok((await nodeFileStore.list(joinPath(root, 'run/sub'))).includes('c.txt'));
  assert.ok(existsSync(joinPath(root, 'run/sub')));
});

test('listCheckpoints / resolveResume through a file store', async () => {
  const files = new MemoryFileStore();
  await files.mkdir('exp');
  for (const e of [1, 10, 2]) await files.writeFileAtomic(joinPath('exp', `checkpoint_${e}.safetensors`), new Uint8Array(1));
  await files.writeFileAtomic('exp/metrics.json', '[]');
  assert.equal(await listCheckpoints('exp', files), [1, 2, 10]);
  assert.equal(await listCheckpoints('missing', files), []);
  assert.is(await resolveResume('exp', -1, files), 'exp/checkpoint_10.safetensors');
  assert.is(await resolveResume('exp', 2, files), 'exp/checkpoint_2.safetensors');
  assert.is(await resolveResume('exp/checkpoint_1.safetensors', -1, files), 'exp/checkpoint_1.safetensors');
  assert.is(await resolveResume('missing', -1, files), null);
});

test.run();
