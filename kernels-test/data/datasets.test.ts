import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  CopydaysDataset, FASHION_MNIST_CLASSES, FashionMnistDataset, HOLIDAYS_ROTATIONS, HolidaysDataset, IDX_MAGIC_IMAGES, ImageFolderDataset,
  ImageListDataset, UkbenchDataset, parseIdx,
} from '../../src/index.js';
import { makeImage, px, rejectsWith, tempDir, throwsWith, writeBytes, writeImage } from './helpers.js';

const tmp = tempDir();
const flat = (v: number, w = 8, h = 6) => makeImage(w, h, () => [v, 255 - v, 60]);
const red = async (p: Promise<{ image: { data: Uint8Array } }>) => (await p).image.data[0]!;

test('ImageFolder: classes sorted by code point, labels, recursive, non-images ignored', async () => {
  const root = join(tmp.dir, 'folder');
  await writeImage(join(root, 'b_cls/2.png'), flat(10));
  await writeImage(join(root, 'b_cls/1.jpg'), flat(20));
  await writeImage(join(root, 'a_cls/x.png'), flat(30));
  await writeImage(join(root, 'a_cls/sub/y.PNG'), flat(40));
  await writeImage(join(root, 'C_upper/z.webp'), flat(50));
  writeBytes(join(root, 'a_cls/notes.txt'), 'not an image');
  const ds = await ImageFolderDataset.open(root);
  assert.equal(ds.classes, ['C_upper', 'a_cls', 'b_cls']);
  assert.is(ds.length, 5);
  assert.equal([...ds.labels], [0, 1, 1, 2, 2]);
  assert.equal(ds.record(3).path, join(root, 'b_cls/1.jpg'));
  assert.is(ds.record(2).path, join(root, 'a_cls/sub/y.PNG'));
  assert.is(await red(ds.get(1)), 30);
  const s = await ds.get(4);
  assert.equal([s.label, s.index, s.image.width, s.image.height], [2, 4, 8, 6]);
  assert.is(ds.classIndex('b_cls'), 2);
  throwsWith(() => ds.record(5), /out of range/);
});

test('ImageFolder errors: missing root, file root, no classes, empty class', async () => {
  await rejectsWith(ImageFolderDataset.open(join(tmp.dir, 'missing')), /root folder not found: .*missing/);
  writeBytes(join(tmp.dir, 'afile'), 'x');
  await rejectsWith(ImageFolderDataset.open(join(tmp.dir, 'afile')), /not a folder/);
  mkdirSync(join(tmp.dir, 'noclasses'), { recursive: true });
  await rejectsWith(ImageFolderDataset.open(join(tmp.dir, 'noclasses')), /no class folders in .*noclasses/);
  const root = join(tmp.dir, 'emptyclass');
  await writeImage(join(root, 'full/a.png'), flat(1));
  mkdirSync(join(root, 'hollow'));
  writeBytes(join(root, 'hollow/readme.txt'), 'x');
  await rejectsWith(ImageFolderDataset.open(root), /class folder .*hollow holds no image files/);
  const ok = await ImageFolderDataset.open(root, { allowEmptyClasses: true });
  assert.equal(ok.classes, ['full', 'hollow']);
  assert.is(ok.length, 1);
});

test('ImageListDataset: relative paths, comments, limit, errors', async () => {
  const root = join(tmp.dir, 'list');
  await writeImage(join(root, 'imgs/a.jpg'), flat(100));
  await writeImage(join(root, 'imgs/b.png'), flat(120));
  writeBytes(join(root, 'list.txt'), '# whitening images\nimgs/b.png\n\n  imgs/a.jpg  \r\nimgs/c.png\n');
  const ds = await ImageListDataset.open(join(root, 'list.txt'));
  assert.equal(ds.names, ['imgs/b.png', 'imgs/a.jpg', 'imgs/c.png']);
  assert.equal([...ds.labels], [-1, -1, -1]);
  assert.is(await red(ds.get(0)), 120);
  await rejectsWith(ds.get(2), /imgs\/c\.png/);
  const two = await ImageListDataset.open(join(root, 'list.txt'), { limit: 2 });
  assert.is(two.length, 2);
  const other = await ImageListDataset.open(join(root, 'list.txt'), { root: join(root, 'elsewhere') });
  assert.is(other.record(0).path, join(root, 'elsewhere/imgs/b.png'));
  await rejectsWith(ImageListDataset.open(join(root, 'nolist.txt')), /cannot read list file .*nolist\.txt/);
});

function idx(magic: number, dims: number[], data: Uint8Array): Uint8Array {
  const head = new DataView(new ArrayBuffer(4 + 4 * dims.length));
  head.setUint32(0, magic, false);
  dims.forEach((d, i) => head.setUint32(4 + 4 * i, d, false));
  const out = new Uint8Array(head.byteLength + data.length);
  out.set(new Uint8Array(head.buffer));
  out.set(data, head.byteLength);
  return out;
}

test('Fashion-MNIST: the installed test split', async () => {
  const ds = await FashionMnistDataset.open({ split: 'test' });
  assert.is(ds.length, 10000);
  assert.equal([...ds.labels.subarray(0, 5)], [9, 2, 1, 1, 6]); // the well-known first test labels
  const counts = new Array(10).fill(0);
  for (const l of ds.labels) counts[l]++;
  assert.ok(counts.every((c) => c === 1000), 'balanced test split');
  const s = await ds.get(0);
  assert.equal([s.image.width, s.image.height, s.label], [28, 28, 9]);
  assert.equal(px(s.image, 14, 14), [ds.gray(0)[14 * 28 + 14]!, ds.gray(0)[14 * 28 + 14]!, ds.gray(0)[14 * 28 + 14]!]);
  assert.is(FASHION_MNIST_CLASSES[9], 'Ankle boot');
  assert.ok(ds.record(3).image !== undefined);
});

test('Fashion-MNIST: plain or gzipped IDX, clear errors', async () => {
  const root = join(tmp.dir, 'fm');
  const pixels = new Uint8Array(3 * 784).map((_, i) => i % 251);
  writeBytes(join(root, 'train-images-idx3-ubyte'), idx(0x803, [3, 28, 28], pixels));
  writeBytes(join(root, 'train-labels-idx1-ubyte.gz'), gzipSync(idx(0x801, [3], new Uint8Array([4, 0, 9]))));
  const ds = await FashionMnistDataset.open({ root });
  assert.is(ds.length, 3);
  assert.equal([...ds.labels], [4, 0, 9]);
  assert.equal(ds.gray(2), pixels.subarray(2 * 784, 3 * 784));
  // Missing files: say how to get them.
  await rejectsWith(FashionMnistDataset.open({ root, split: 'test' }), /t10k-images-idx3-ubyte\.gz/, /tools\/setup\.sh/, /dataset-fashion-mnist/);
  // Wrong magic: names the file.
  const bad = join(tmp.dir, 'fm-bad');
  writeBytes(join(bad, 'train-images-idx3-ubyte'), idx(0x801, [3], new Uint8Array([1, 2, 3])));
  writeBytes(join(bad, 'train-labels-idx1-ubyte'), idx(0x801, [3], new Uint8Array([1, 2, 3])));
  await rejectsWith(FashionMnistDataset.open({ root: bad }), /fm-bad\/train-images-idx3-ubyte has wrong magic number 0x00000801 \(expected 0x00000803\)/);
  // Labels out of range, count mismatch.
  const lab = join(tmp.dir, 'fm-lab');
  writeBytes(join(lab, 'train-images-idx3-ubyte'), idx(0x803, [2, 28, 28], new Uint8Array(2 * 784)));
  writeBytes(join(lab, 'train-labels-idx1-ubyte'), idx(0x801, [2], new Uint8Array([1, 12])));
  await rejectsWith(FashionMnistDataset.open({ root: lab }), /label 12 at index 1/);
  writeBytes(join(lab, 'train-labels-idx1-ubyte'), idx(0x801, [3], new Uint8Array([1, 2, 3])));
  await rejectsWith(FashionMnistDataset.open({ root: lab }), /2 images but .* 3 labels/);
  throwsWith(() => parseIdx(idx(0x803, [2, 28, 28], new Uint8Array(100)), 'x.idx', IDX_MAGIC_IMAGES), /x\.idx is truncated/);
  throwsWith(() => parseIdx(new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0]), 'y.gz', IDX_MAGIC_IMAGES), /y\.gz has wrong magic/);
});

test('Holidays: groups by id / 100, queries xx00, last group kept, rotation list, EXIF ignored', async () => {
  const root = join(tmp.dir, 'holidays');
  const ids = [100601, 100000, 100001, 100002, 100100, 100101, 100600];
  for (const [k, id] of ids.entries()) {
    await writeImage(join(root, `jpg/${id}.jpg`), flat(20 * k + 10, 12, 8), id === 100600 ? { orientation: 6 } : {});
  }
  assert.is(HOLIDAYS_ROTATIONS['100600.jpg'], 90);
  assert.is(Object.keys(HOLIDAYS_ROTATIONS).length, 228);
  const ds = await HolidaysDataset.open(root);
  assert.equal([...ds.ids], [100000, 100001, 100002, 100100, 100101, 100600, 100601]);
  assert.equal([...ds.labels], [0, 0, 0, 1, 1, 2, 2]);
  assert.equal([...ds.queries], [0, 3, 5]);
  assert.equal([...ds.database], [0, 1, 2, 3, 4, 5, 6]);
  assert.equal(ds.groundTruth, [
    { positives: [1, 2], ignore: [0] },
    { positives: [4], ignore: [3] },
    { positives: [6], ignore: [5] },
  ]);
  assert.equal(ds.record(5).rotate, 90);
  assert.is(ds.record(0).rotate, undefined);
  const rotated = await ds.get(5);
  assert.equal([rotated.image.width, rotated.image.height], [8, 12], 'list rotation only (EXIF tag 6 ignored)');
  const plain = await ds.get(0);
  assert.equal([plain.image.width, plain.image.height], [12, 8]);
  assert.ok(Math.abs(plain.image.data[0]! - 30) <= 3, 'file 100000 was written second');
  const noRot = await HolidaysDataset.open(root, { rotate: false });
  assert.equal([(await noRot.get(5)).image.width], [12]);
});

test('Holidays errors: missing root, group without query, bad names', async () => {
  await rejectsWith(HolidaysDataset.open(join(tmp.dir, 'no-holidays')), /Holidays: root folder not found/);
  const root = join(tmp.dir, 'holidays-bad');
  await writeImage(join(root, '100000.jpg'), flat(1));
  await writeImage(join(root, '100701.jpg'), flat(1));
  await rejectsWith(HolidaysDataset.open(root), /no query image .*100700\.jpg/);
  const root2 = join(tmp.dir, 'holidays-name');
  await writeImage(join(root2, 'jpg/holiday.jpg'), flat(1));
  await rejectsWith(HolidaysDataset.open(root2), /holiday\.jpg is not a numeric id/);
});

test('Copydays: originals, attacked copies by family/level, distractors, ground truth', async () => {
  const root = join(tmp.dir, 'copydays');
  for (const f of ['200000.jpg', '200100.jpg', 'crops/50/200100.jpg', 'crops/10/200000.jpg', 'jpegqual/5/200000.jpg',
    'strong/200002.jpg', 'strong/200001.jpg', 'strong/200101.jpg']) await writeImage(join(root, f), flat(5));
  const dis = join(tmp.dir, 'distractors');
  for (const f of ['a/1.jpg', 'a/2.jpg', 'b/3.jpg']) await writeImage(join(dis, f), flat(5));
  const ds = await CopydaysDataset.open(root, { distractorRoot: dis, numDistractors: 2 });
  assert.is(ds.length, 10);
  assert.equal([ds.numOriginals, ds.numDistractors], [2, 2]);
  assert.equal([...ds.queries], [2, 3, 4, 5, 6, 7]);
  assert.equal([...ds.database], [0, 1, 8, 9]);
  assert.equal(ds.queryVariants.map((v) => `${v.family}/${v.level}:${v.originalId}`),
    ['crops/10:200000', 'crops/50:200100', 'jpegqual/5:200000', 'strong/:200000', 'strong/:200000', 'strong/:200100']);
  assert.equal(ds.groundTruth.map((g) => g.positives), [[0], [1], [0], [0], [0], [1]]);
  assert.ok(ds.groundTruth.every((g) => g.ignore.length === 0));
  assert.equal([...ds.labels], [0, 1, 0, 1, 0, 0, 0, 1, -1, -1]);
  assert.is(ds.record(6).path, join(root, 'strong/200002.jpg'));
  assert.is(ds.record(8).path, join(dis, 'a/1.jpg'));
  assert.equal([...ds.queriesByFamily().entries()], [['crops', [0, 1]], ['jpegqual', [2]], ['strong', [3, 4, 5]]]);
  const strong = await CopydaysDataset.open(root, { variants: ['strong'] });
  assert.equal([strong.queries.length, strong.database.length], [3, 2]);
  const crop50 = await CopydaysDataset.open(root, { variants: ['crops/50'] });
  assert.equal(crop50.groundTruth, [{ positives: [1], ignore: [] }]);
  writeBytes(join(tmp.dir, 'dlist.txt'), 'b/3.jpg\na/2.jpg\n');
  const listed = await CopydaysDataset.open(root, { distractorList: join(tmp.dir, 'dlist.txt'), distractorRoot: dis });
  assert.equal([listed.record(8).path, listed.record(9).path], [join(dis, 'b/3.jpg'), join(dis, 'a/2.jpg')]);
  await writeImage(join(root, 'strong/300001.jpg'), flat(5));
  await rejectsWith(CopydaysDataset.open(root), /300001\.jpg has no original 300000\.jpg/);
});

test('UKBench: numeric order, groups of 4 consecutive images, every image a query', async () => {
  const root = join(tmp.dir, 'ukbench');
  for (let i = 11; i >= 0; i--) await writeImage(join(root, `full/ukbench${i}.jpg`), flat(i * 20));
  const ds = await UkbenchDataset.open(root);
  assert.is(ds.length, 12);
  assert.is(ds.record(10).path, join(root, 'full/ukbench10.jpg'), 'numeric, not string, order');
  assert.equal([...ds.labels], [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]);
  assert.equal([...ds.queries], [...ds.database]);
  assert.equal(ds.groundTruth[5], { positives: [4, 5, 6, 7], ignore: [] });
  assert.ok(Math.abs((await red(ds.get(9))) - 180) <= 3);
  await writeImage(join(root, 'full/ukbench12.jpg'), flat(1));
  await rejectsWith(UkbenchDataset.open(root), /13 images .* not a multiple of 4/);
  await rejectsWith(UkbenchDataset.open(join(tmp.dir, 'no-ukbench')), /UKBench: root folder not found/);
});

test.after(() => tmp.cleanup());
test.run();
