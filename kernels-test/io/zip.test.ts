import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ZipArchive, ZipError, crc32 } from '../../src/index.js';
import { fixture } from './fixtures.js';

test('crc32 of a known string', () => {
  assert.is(crc32(new TextEncoder().encode('123456789')), 0xcbf43926);
});

test('stored and deflated archives give the same entries', async () => {
  const stored = new ZipArchive(fixture('tiny_zip.pth'));
  const deflated = new ZipArchive(fixture('tiny_deflate.pth'));
  assert.ok(stored.names().includes('tiny_zip/data.pkl'));
  assert.equal(deflated.names(), stored.names());
  assert.is(stored.entries.get('tiny_zip/data.pkl')!.method, 0);
  assert.is(deflated.entries.get('tiny_zip/data.pkl')!.method, 8);
  for (const name of stored.names()) {
    assert.equal(await deflated.read(name), await stored.read(name), name);
  }
});

test('truncated or damaged archives are reported', async () => {
  const bytes = fixture('tiny_zip.pth');
  assert.throws(() => new ZipArchive(bytes.subarray(0, bytes.length - 30)), (e: unknown) =>
    e instanceof ZipError && /truncated or damaged/.test((e as Error).message));
  assert.throws(() => new ZipArchive(new Uint8Array(100)), /not a ZIP archive/);
  const zip = new ZipArchive(bytes);
  const entry = zip.entries.get('tiny_zip/data/0')!;
  const copy = bytes.slice();
  const at = zip.rawEntryData(entry).byteOffset - bytes.byteOffset;
  copy[at] ^= 0xff;
  try {
    await new ZipArchive(copy).read('tiny_zip/data/0');
    assert.unreachable('corruption not detected');
  } catch (e) {
    assert.match((e as Error).message, /CRC mismatch in entry 'tiny_zip\/data\/0'/);
  }
  try {
    await zip.read('nope');
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /no entry 'nope'/);
  }
});

test.run();
