// Datasets read files as the original's PIL loader does: the stored pixels (EXIF orientation
// only when asked for) and a truncated JPEG decoded as far as it goes, with a warning.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataLoader, ImageDecodeError, ImageListDataset, NodeImageDecoder, loadRecord, type HostBatch } from '../../src/index.js';
import { makeImage, px, rejectsWith, tempDir, writeBytes, writeImage } from './helpers.js';

const tmp = tempDir();
const decoder = new NodeImageDecoder();

async function collect(gen: AsyncGenerator<HostBatch>): Promise<HostBatch[]> {
  const out: HostBatch[] = [];
  for await (const b of gen) out.push(b);
  return out;
}

/** Runs `f` with console.warn captured. */
async function withWarnings<T>(f: () => Promise<T>): Promise<{ value: T; warnings: string[] }> {
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => void warnings.push(args.join(' '));
  try {
    return { value: await f(), warnings };
  } finally {
    console.warn = warn;
  }
}

test('a truncated JPEG: a bare decode refuses it; a dataset record decodes its top, rest gray, with a warning', async () => {
  // top half red, bottom half blue, 128 x 128, with texture so that the scan data (not the
  // header) holds most of the bytes; then cut the file to 60% of its bytes
  const noise = (x: number, y: number) => ((x * 7919 + y * 104729) % 41) - 20;
  const img = makeImage(128, 128, (x, y) => (y < 64 ? [220 + (noise(x, y) >> 2), 30 + noise(x, y), 30] : [30, 30 + noise(x, y), 220]));
  const full = join(tmp.dir, 'full.jpg');
  await writeImage(full, img, { quality: 90 });
  const bytes = readFileSync(full);
  const cut = join(tmp.dir, 'cut.jpg');
  writeBytes(cut, bytes.subarray(0, Math.floor(bytes.length * 0.6)));

  const strict = await rejectsWith(decoder.decode(cut), /cut\.jpg/, /premature end/i);
  assert.instance(strict, ImageDecodeError);

  const { value: got, warnings } = await withWarnings(() => loadRecord({ path: cut, label: 0 }, decoder));
  assert.equal([got.width, got.height], [128, 128]);
  assert.ok(px(got, 10, 2)[0] > 180 && px(got, 10, 2)[2] < 80, `top row decoded red: ${px(got, 10, 2)}`);
  const last = px(got, 120, 127);
  assert.ok(last.every((v) => Math.abs(v - 128) < 12), `the missing bottom rows are gray: ${last}`);
  assert.is(warnings.length, 1, warnings.join('\n'));
  assert.match(warnings[0]!, /cut\.jpg/);
  assert.match(warnings[0]!, /truncated/);

  // through the loader (a worker thread and this thread): the run goes on, nothing skipped
  const ds = ImageListDataset.fromNames(tmp.dir, ['full.jpg', 'cut.jpg']);
  for (const workers of [0, 1]) {
    const loader = new DataLoader({ dataset: ds, transform: { kind: 'val', mode: 'square', size: 16 }, workers });
    try {
      const { value: batches } = await withWarnings(() => collect(loader.evaluation({ batchSize: 2 })));
      assert.equal(batches.map((b) => [...b.instanceIds]), [[0, 1]], `workers ${workers}`);
      assert.is(loader.skipped, 0);
    } finally {
      await loader.close();
    }
  }
  // a file that is no image at all still fails, naming it
  writeBytes(join(tmp.dir, 'junk.jpg'), 'not a jpeg');
  await rejectsWith(loadRecord({ path: join(tmp.dir, 'junk.jpg'), label: 0 }, decoder), /junk\.jpg/);
});

test('EXIF orientation: ignored by default (PIL), applied with exifOrientation; a record\'s own choice wins', async () => {
  // stored 40 x 20, left half red, right half blue; orientation 6 displays it turned 90 degrees clockwise
  const stored = makeImage(40, 20, (x) => (x < 20 ? [230, 20, 20] : [20, 20, 230]));
  const path = join(tmp.dir, 'turned.jpg');
  await writeImage(path, stored, { orientation: 6 });

  const raw = await loadRecord({ path, label: 0 }, decoder);
  assert.equal([raw.width, raw.height], [40, 20], 'the stored pixels by default');
  const turned = await loadRecord({ path, label: 0, autoOrient: true }, decoder);
  assert.equal([turned.width, turned.height], [20, 40]);
  assert.ok(px(turned, 10, 2)[0] > 180, `after the turn the top is the stored left (red): ${px(turned, 10, 2)}`);

  const ds = ImageListDataset.fromNames(tmp.dir, ['turned.jpg']);
  const shape = async (exifOrientation: boolean | undefined, workers: number): Promise<number[]> => {
    const loader = new DataLoader({
      dataset: ds, transform: { kind: 'val', mode: 'rect', size: 40 }, workers, ...(exifOrientation !== undefined ? { exifOrientation } : {}),
    });
    try {
      return (await collect(loader.evaluation()))[0]!.shape;
    } finally {
      await loader.close();
    }
  };
  for (const workers of [0, 1]) {
    assert.equal(await shape(undefined, workers), [1, 3, 20, 40], 'default: landscape as stored');
    assert.equal(await shape(true, workers), [1, 3, 40, 20], 'exifOrientation: portrait as displayed');
  }
  // a record that says false (Holidays, whose rotation list is for the stored pixels) stays as stored
  const fixed = { length: 1, labels: Int32Array.of(0), record: () => ({ path, label: 0, autoOrient: false }), get: () => ds.get(0) };
  const loader = new DataLoader({ dataset: fixed, transform: { kind: 'val', mode: 'rect', size: 40 }, workers: 0, exifOrientation: true });
  assert.equal((await collect(loader.evaluation()))[0]!.shape, [1, 3, 20, 40]);
  await loader.close();
});

test.after(() => tmp.cleanup());
test.run();
