import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../../src/index.js';

function withDir(fn: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mg-atomic-'));
    try { await fn(dir); } finally { rmSync(dir, { recursive: true, force: true }); }
  };
}

test('writes bytes, strings and chunk streams; replaces the old file', withDir(async (dir) => {
  const path = join(dir, 'a.bin');
  await writeFileAtomic(path, new Uint8Array([1, 2, 3]));
  assert.equal([...readFileSync(path)], [1, 2, 3]);
  await writeFileAtomic(path, 'hello');
  assert.is(readFileSync(path, 'utf8'), 'hello');
  async function* chunks() { yield new Uint8Array([9]); yield new Uint8Array([8, 7]); }
  await writeFileAtomic(path, chunks());
  assert.equal([...readFileSync(path)], [9, 8, 7]);
  assert.equal(readdirSync(dir), ['a.bin']);
}));

test('an error midway leaves the old file intact and no temp file', withDir(async (dir) => {
  const path = join(dir, 'checkpoint.safetensors');
  writeFileSync(path, 'OLD CONTENT');
  async function* failing() {
    yield new Uint8Array(64 * 1024).fill(1); // half of the new file is on disk already
    throw new Error('interrupted');
  }
  try {
    await writeFileAtomic(path, failing());
    assert.unreachable();
  } catch (e) {
    assert.is((e as Error).message, 'interrupted');
  }
  assert.is(readFileSync(path, 'utf8'), 'OLD CONTENT');
  assert.equal(readdirSync(dir), ['checkpoint.safetensors']);
  // Same for a file that did not exist: nothing appears.
  const fresh = join(dir, 'new.bin');
  await writeFileAtomic(fresh, failing()).catch(() => undefined);
  assert.not.ok(existsSync(fresh));
  assert.equal(readdirSync(dir), ['checkpoint.safetensors']);
}));

test('a missing folder is an error, not a partial write', withDir(async (dir) => {
  try {
    await writeFileAtomic(join(dir, 'nope', 'x.bin'), 'x');
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /ENOENT/);
  }
}));

test.run();
