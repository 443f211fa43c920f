import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import {
  BrowserImageDecoder, ImageDecodeError, NodeImageDecoder, defaultImageDecoder, isNodeRuntime, rotateImageClockwise,
} from '../../src/index.js';
import { gradient, makeImage, mean, px, rejectsWith, std, tempDir, writeBytes, writeImage } from './helpers.js';

const fixtures = join(process.cwd(), 'kernels-test/fixtures/images');
const decoder = new NodeImageDecoder();
const tmp = tempDir();

const quadrants = (w: number, h: number) => makeImage(w, h, (x, y) =>
  x < w / 2 ? (y < h / 2 ? [250, 0, 0] : [0, 250, 0]) : (y < h / 2 ? [0, 0, 250] : [250, 250, 0]));

function maxDiff(a: Uint8Array, b: Uint8Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

test('PNG and lossless WebP decode to the exact pixels (path and bytes)', async () => {
  const img = gradient(17, 11);
  for (const ext of ['png', 'webp']) {
    const path = join(tmp.dir, `g.${ext}`);
    await writeImage(path, img);
    const a = await decoder.decode(path);
    assert.equal([a.width, a.height], [17, 11]);
    assert.equal(a.data, img.data, ext);
    const b = await decoder.decode(new Uint8Array(readFileSync(path)));
    assert.equal(b.data, img.data, `${ext} from bytes`);
  }
});

test('JPEG decodes close to the source', async () => {
  const img = gradient(64, 48);
  const path = join(tmp.dir, 'g.jpg');
  await writeImage(path, img, { quality: 98 });
  const d = await decoder.decode(path);
  assert.equal([d.width, d.height], [64, 48]);
  assert.ok(maxDiff(d.data, img.data) <= 12, `max diff ${maxDiff(d.data, img.data)}`);
});

test('EXIF orientation is applied (and can be turned off)', async () => {
  const stored = quadrants(40, 20);
  const path = join(tmp.dir, 'oriented.jpg');
  await writeImage(path, stored, { orientation: 6 }); // display = stored turned 90 degrees clockwise
  const meta = await sharp(path).metadata();
  assert.is(meta.orientation, 6);
  const shown = await decoder.decode(path);
  assert.equal([shown.width, shown.height], [20, 40]);
  const want = rotateImageClockwise(stored, 90);
  for (const [x, y] of [[5, 5], [15, 5], [5, 30], [15, 30]] as const) {
    const got = px(shown, x, y), exp = px(want, x, y);
    assert.ok(got.every((v, c) => Math.abs(v - exp[c]!) < 30), `(${x},${y}) ${got} vs ${exp}`);
  }
  assert.equal(px(shown, 2, 2).map((v) => v > 128), [false, true, false], 'top-left of the display is the bottom-left (green) quadrant');
  const raw = await decoder.decode(path, { autoOrient: false });
  assert.equal([raw.width, raw.height], [40, 20]);
});

test('gray images are replicated to RGB; alpha is dropped', async () => {
  const gray = new Uint8Array(6 * 4).map((_, i) => i * 10);
  const gpath = join(tmp.dir, 'gray.png');
  await sharp(Buffer.from(gray), { raw: { width: 6, height: 4, channels: 1 } }).png().toFile(gpath);
  const g = await decoder.decode(gpath);
  assert.equal([g.width, g.height, g.data.length], [6, 4, 72]);
  assert.equal(px(g, 5, 3), [230, 230, 230]);
  const rgba = new Uint8Array(3 * 2 * 4).map((_, i) => (i % 4 === 3 ? (i * 40) % 256 : i * 9));
  const apath = join(tmp.dir, 'rgba.png');
  await sharp(Buffer.from(rgba), { raw: { width: 3, height: 2, channels: 4 } }).png().toFile(apath);
  const a = await decoder.decode(apath);
  assert.equal(a.data.length, 18);
  assert.equal(px(a, 1, 0), [36, 45, 54]);
});

test('committed photos decode (JPEG, WebP, PNG)', async () => {
  const want: Record<string, [number, number]> = { 'chelsea.jpg': [451, 300], 'coffee.webp': [300, 200], 'rocket.jpg': [320, 214], 'astronaut.png': [128, 128] };
  for (const [name, [w, h]] of Object.entries(want)) {
    const img = await decoder.decode(join(fixtures, name));
    assert.equal([img.width, img.height], [w, h], name);
    assert.ok(std(img.data) > 20 && mean(img.data) > 30 && mean(img.data) < 220, `${name} looks like a photo`);
  }
});

test('truncated, corrupt and missing images give errors naming the file', async () => {
  const trunc = join(fixtures, 'truncated.jpg');
  const e1 = await rejectsWith(decoder.decode(trunc), /cannot decode image .*truncated\.jpg/, /premature end|truncat|corrupt/i);
  assert.instance(e1, ImageDecodeError);
  assert.is((e1 as ImageDecodeError).file, trunc);
  // A real JPEG cut in half.
  const half = join(tmp.dir, 'half.jpg');
  const full = readFileSync(join(fixtures, 'chelsea.jpg'));
  writeBytes(half, full.subarray(0, full.length >> 1));
  await rejectsWith(decoder.decode(half), /half\.jpg/);
  const junk = join(tmp.dir, 'junk.png');
  writeBytes(junk, 'this is not an image at all');
  await rejectsWith(decoder.decode(junk), /junk\.png/, /unsupported image format|corrupt|bad/i);
  await rejectsWith(decoder.decode(new Uint8Array([1, 2, 3, 4]), { name: 'upload #7' }), /upload #7/);
  await rejectsWith(decoder.decode(join(tmp.dir, 'nope.jpg')), /nope\.jpg/, /not found/);
});

test('syncRead (file reading of the loader workers) gives the same pixels, crops and errors', async () => {
  const sync = new NodeImageDecoder({ syncRead: true });
  const file = join(fixtures, 'chelsea.jpg');
  assert.equal((await sync.decode(file)).data, (await decoder.decode(file)).data);
  const box = () => ({ left: 31, top: 17, width: 200, height: 150 });
  const a = await sync.decodeCropResized!(file, box, 64, 48, { autoOrient: false });
  const b = await decoder.decodeCropResized!(file, box, 64, 48, { autoOrient: false });
  assert.equal(a.data, b.data);
  const e = await rejectsWith(sync.decode(join(tmp.dir, 'nope.jpg')), /nope\.jpg/, /not found/);
  assert.instance(e, ImageDecodeError);
  await rejectsWith(sync.decodeCropResized!(join(tmp.dir, 'gone.jpg'), box, 8, 8), /gone\.jpg/, /not found/);
});

test('default decoder: sharp under Node; the browser decoder exists (runs only in browsers)', () => {
  assert.ok(isNodeRuntime());
  assert.instance(defaultImageDecoder(), NodeImageDecoder);
  assert.type(new BrowserImageDecoder().decode, 'function');
});

test.after(() => tmp.cleanup());
test.run();
