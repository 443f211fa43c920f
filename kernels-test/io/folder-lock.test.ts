// One run per experiment folder (src/io/folder-lock.ts): the lock file is created exclusively
// and holds pid, host, start time and command; a second holder is refused naming the folder and
// the holder; a lock of a dead process on this host is taken over with a message, one from
// another host or this very process is not; temp files of killed atomic writes are removed,
// those of a live writer kept. On disk (nodeFileStore) and in memory (MemoryFileStore).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import {
  lockFolder, removeOrphanedTemps, atomicTempName, torchFileFormat, nodeFileStore, MemoryFileStore, LOCK_FILE, ATOMIC_TEMP_PATTERN,
  type LockInfo,
} from '../../src/index.js';
import { assertThrowsWith } from '../helpers.js';
import { scratchDir } from '../scratch-dir.js';
import { fixture } from './fixtures.js';

const test = suite('folder-lock');

/** The pid of a process that has ended (a child that exited at once). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '0']);
  return child.pid!;
}

test('nodeFileStore: the lock holds pid, host, time and command; a second holder is refused; release frees it', async () => {
  const dir = join(scratchDir('lock'), 'run');
  const lock = await lockFolder(nodeFileStore, dir, 'train');
  const info = JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')) as LockInfo;
  assert.is(info.pid, process.pid);
  assert.is(info.host, hostname());
  assert.is(info.command, 'train');
  assert.ok(Number.isFinite(Date.parse(info.started)), `started ${info.started}`);
  await assertThrowsWith(() => lockFolder(nodeFileStore, dir, 'whiten'), [dir, 'in use', `pid ${process.pid}`, hostname(), 'train', '--expdir'], 'second holder');
  assert.ok(existsSync(join(dir, LOCK_FILE)), 'the refused run leaves the holder\'s lock in place');
  await lock.release();
  assert.not.ok(existsSync(join(dir, LOCK_FILE)), 'released');
  await lock.release(); // idempotent
  const again = await lockFolder(nodeFileStore, dir, 'train');
  await again.release();
});

test('a lock of a dead process on this host is taken over with a message', async () => {
  const dir = scratchDir('stale');
  const pid = deadPid();
  writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid, host: hostname(), started: '2020-01-01T00:00:00.000Z', command: 'train' }));
  const lines: string[] = [];
  const lock = await lockFolder(nodeFileStore, dir, 'train', (l) => lines.push(l));
  assert.is(lines.length, 1, lines.join('\n'));
  assert.ok(lines[0]!.includes(`pid ${pid}`) && lines[0]!.includes('no longer running'), lines[0]);
  assert.is((JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')) as LockInfo).pid, process.pid, 'now ours');
  await lock.release();
});

test('a killed run not yet reaped by its parent (a zombie) counts as gone', async () => {
  if (!existsSync('/proc/self/stat')) return; // Linux only
  // sh starts `sleep 30` in the background and prints its pid, then becomes `sleep 60`, which
  // never reaps its child: killing the inner sleep leaves a zombie.
  const outer = spawn('sh', ['-c', 'sleep 30 & echo $!; exec sleep 60'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const pid = Number(await new Promise<string>((resolve) => outer.stdout!.once('data', (d) => resolve(String(d)))));
  try {
    assert.is(await nodeFileStore.processAlive(pid), true, 'running');
    process.kill(pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 200));
    assert.match(readFileSync(`/proc/${pid}/stat`, 'utf8'), /\) Z /, 'a zombie, still answering signal 0');
    assert.is(await nodeFileStore.processAlive(pid), false, 'a zombie is gone');
  } finally {
    outer.kill('SIGKILL');
  }
});

test('a lock from another host is never taken over; the message says how to proceed', async () => {
  const dir = scratchDir('otherhost');
  writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: deadPid(), host: 'elsewhere.example', started: '2020-01-01T00:00:00.000Z', command: 'train' }));
  await assertThrowsWith(() => lockFolder(nodeFileStore, dir, 'train'), [dir, 'elsewhere.example', `delete ${join(dir, LOCK_FILE)}`], 'other host');
});

test('an unreadable lock file (an interrupted start) is taken over with a message', async () => {
  const dir = scratchDir('garbled');
  writeFileSync(join(dir, LOCK_FILE), '');
  const lines: string[] = [];
  const lock = await lockFolder(nodeFileStore, dir, 'train', (l) => lines.push(l));
  assert.ok(lines.some((l) => l.includes('unreadable')), lines.join('\n'));
  await lock.release();
});

test('MemoryFileStore: exclusive create, identity and live pids drive the same lock', async () => {
  const files = new MemoryFileStore();
  await files.mkdir('exp');
  assert.ok(await files.createExclusive('exp/a', 'x'));
  assert.not.ok(await files.createExclusive('exp/a', 'y'), 'second create refused');
  assert.is(new TextDecoder().decode(await files.readFile('exp/a')), 'x', 'content kept');
  const lock = await lockFolder(files, 'exp', 'train');
  files.identity = { pid: 2, host: 'memory' }; // another process of the same host
  files.livePids.add(2);
  await assertThrowsWith(() => lockFolder(files, 'exp', 'train'), ['exp', 'pid 1', 'memory'], 'live holder');
  files.livePids.delete(1); // the holder died
  const lines: string[] = [];
  const taken = await lockFolder(files, 'exp', 'train', (l) => lines.push(l));
  assert.ok(lines[0]?.includes('pid 1'), lines.join('\n'));
  await lock.release(); // the dead holder's release must not remove the new lock
  assert.ok(await files.stat('exp/.lock'), 'the new holder keeps its lock');
  await taken.release();
  assert.is(await files.stat('exp/.lock'), null);
});

test('orphaned temp files of killed writes are removed with one line; a live writer\'s are kept', async () => {
  const dir = scratchDir('tmp');
  const dead = atomicTempName('checkpoint_2.safetensors', deadPid());
  const dead2 = atomicTempName('metrics.json', deadPid());
  const live = atomicTempName('metrics.json', process.pid);
  for (const name of [dead, dead2, live, 'notes.tmp', 'checkpoint_1.safetensors']) writeFileSync(join(dir, name), 'x');
  assert.ok(ATOMIC_TEMP_PATTERN.test(dead), dead);
  const lines: string[] = [];
  const removed = await removeOrphanedTemps(nodeFileStore, dir, (l) => lines.push(l));
  assert.equal(removed.sort(), [dead, dead2].sort());
  assert.equal(readdirSync(dir).sort(), [live, 'notes.tmp', 'checkpoint_1.safetensors'].sort());
  assert.is(lines.length, 1);
  assert.ok(lines[0]!.includes('removed 2 temporary files') && lines[0]!.includes(dead), lines[0]);
  assert.equal(await removeOrphanedTemps(nodeFileStore, dir, (l) => lines.push(l)), []);
  assert.is(lines.length, 1, 'nothing to say the second time');
});

test('torchFileFormat tells a .pth (zip or legacy) from our safetensors checkpoints', () => {
  assert.is(torchFileFormat(fixture('tiny_zip.pth')), 'zip');
  assert.is(torchFileFormat(fixture('tiny_legacy.pth')), 'legacy');
  assert.is(torchFileFormat(fixture('tiny_expected.safetensors')), null);
  assert.is(torchFileFormat(new Uint8Array(0)), null);
});

test.run();
