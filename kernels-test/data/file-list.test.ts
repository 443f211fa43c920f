// FileListDataset: the files of a picked folder (webkitRelativePath root/<class>/<image>) are
// labeled by class folder, sorted; a flat list is unlabeled; `under` picks train/ or val/ and
// `classes` matches a validation set to the training classes by name; get() decodes each file
// to the same pixels as the decoder reading its path.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { FileListDataset, NodeImageDecoder, type FileLike } from '../../src/index.js';
import { assertThrowsWith } from '../helpers.js';

const test = suite('file-list dataset');
const DIR = resolve('kernels-test/fixtures/images');

/** A File as a folder picker gives it (webkitRelativePath set). */
function picked(relative: string, photo: string): FileLike {
  const file = new File([readFileSync(resolve(DIR, photo))], relative.slice(relative.lastIndexOf('/') + 1));
  Object.defineProperty(file, 'webkitRelativePath', { value: relative });
  return file;
}

test('a picked folder: classes from the folders, sorted items, loose files and non-images left out; pixels as decoded from the path', async () => {
  const files = [
    picked('photos/space/rocket.jpg', 'rocket.jpg'), picked('photos/animals/chelsea.jpg', 'chelsea.jpg'),
    picked('photos/space/astronaut.png', 'astronaut.png'), picked('photos/readme.jpg', 'coffee.webp'),
    Object.assign(picked('photos/space/notes.txt', 'rocket.jpg'), {}),
  ];
  const ds = new FileListDataset(files);
  assert.equal(ds.classes, ['animals', 'space']);
  assert.equal(ds.paths, ['animals/chelsea.jpg', 'space/astronaut.png', 'space/rocket.jpg']);
  assert.equal(Array.from(ds.labels), [0, 1, 1]);
  const sample = await ds.get(2);
  const direct = await new NodeImageDecoder().decode(resolve(DIR, 'rocket.jpg'), { autoOrient: false });
  assert.is(sample.label, 1);
  assert.equal([sample.image.width, sample.image.height], [direct.width, direct.height]);
  assert.ok(sample.image.data.every((v, i) => v === direct.data[i]), 'same pixels as the decoder on the path');
});

test('a flat list of files is unlabeled (a gallery)', () => {
  const files = ['chelsea.jpg', 'coffee.webp'].map((p) => new File([readFileSync(resolve(DIR, p))], p));
  const ds = new FileListDataset(files);
  assert.equal(ds.classes, []);
  assert.equal(Array.from(ds.labels), [-1, -1]);
  assert.equal(ds.paths, ['chelsea.jpg', 'coffee.webp']);
});

test('under train/ and val/: the validation classes are matched by name; an unknown class is named', async () => {
  const files = [
    picked('data/train/cat/chelsea.jpg', 'chelsea.jpg'), picked('data/train/drink/coffee.webp', 'coffee.webp'),
    picked('data/val/drink/coffee.webp', 'coffee.webp'), picked('data/val/zebra/rocket.jpg', 'rocket.jpg'),
  ];
  const train = new FileListDataset(files, { under: 'train' });
  assert.equal(train.classes, ['cat', 'drink']);
  const val = new FileListDataset(files.slice(0, 3), { under: 'val', classes: train.classes });
  assert.equal(Array.from(val.labels), [1]);
  await assertThrowsWith(() => new FileListDataset(files, { under: 'val', classes: train.classes }), ['"zebra"', 'not among the known classes'], 'unknown class');
  await assertThrowsWith(() => new FileListDataset(files, { under: 'test' }), ['no image files under test/'], 'empty');
});

test.run();
