// The ImageNet devkit's validation layout (one flat folder of images plus a ground-truth list)
// is accepted for classification evaluation, without a train/ folder.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { ImagenetValDataset, openValidationData } from '../../src/index.js';
import { makeImage, rejectsWith, tempDir, writeBytes, writeImage } from './helpers.js';

const tmp = tempDir();
const WNIDS = ['n01440764', 'n01443537', 'n01484850']; // sorted: tench, goldfish, great white shark
const img = makeImage(8, 8, () => [100, 100, 100]);

async function flatFolder(dir: string, count: number): Promise<void> {
  for (let k = 1; k <= count; k++) await writeImage(join(dir, `ILSVRC2012_val_0000000${k}.JPEG`), img);
}

test('LOC_val_solution.csv: labels by wnid, classes sorted (ImageFolder order of train/), found beside val/', async () => {
  const root = join(tmp.dir, 'kaggle');
  await flatFolder(join(root, 'val'), 4);
  writeBytes(join(root, 'LOC_val_solution.csv'), 'ImageId,PredictionString\n' +
    'ILSVRC2012_val_00000003,n01484850 1 2 3 4\nILSVRC2012_val_00000001,n01443537 5 6 7 8 n01443537 1 1 2 2\n' +
    'ILSVRC2012_val_00000004,n01440764 1 2 3 4\nILSVRC2012_val_00000002,n01484850 1 2 3 4\n');
  const { val, classes } = await openValidationData('imagefolder', root);
  assert.equal(classes, WNIDS);
  assert.equal([...val.labels], [1, 2, 2, 0]);
  assert.is(val.record(0).path, join(root, 'val', 'ILSVRC2012_val_00000001.JPEG'));
  // a model's own class list (here reversed): matched by name
  const known = { names: [...WNIDS].reverse(), of: 'the model' };
  const mapped = await openValidationData('imagefolder', root, 0, known);
  assert.equal([...mapped.val.labels], [1, 0, 0, 2]);
  // the flat folder given directly as --data-path
  const direct = await openValidationData('imagefolder', join(root, 'val'), 2);
  assert.equal([...direct.val.labels], [1, 2]);
  await rejectsWith(openValidationData('imagefolder', root, 0, { names: ['n01440764'], of: 'the model' }), /n01443537/, /not among the 1 classes of the model/);
});

test('ILSVRC2012_validation_ground_truth.txt: IDs through the synset list; clear errors', async () => {
  const dir = join(tmp.dir, 'devkit', 'val');
  await flatFolder(dir, 3);
  const gt = join(tmp.dir, 'devkit', 'ILSVRC2012_validation_ground_truth.txt');
  writeBytes(gt, '2\n3\n1\n');
  // the devkit's ID order is not the sorted order
  const synsets = join(tmp.dir, 'devkit', 'synsets.txt');
  writeBytes(synsets, 'n01484850 great white shark\nn01440764 tench\nn01443537 goldfish\n');
  await rejectsWith(ImagenetValDataset.open(dir), /ILSVRC2012_validation_ground_truth\.txt gives ILSVRC2012_IDs/, /--val-synsets/);
  const ds = await ImagenetValDataset.open(dir, { synsets });
  assert.equal(ds.classes, WNIDS);
  assert.equal([...ds.labels], [0, 1, 2]); // IDs 2, 3, 1 = tench, goldfish, shark
  const { val } = await openValidationData('imagefolder', join(tmp.dir, 'devkit'), 0, undefined, { synsets });
  assert.equal([...val.labels], [0, 1, 2]);
  writeBytes(join(tmp.dir, 'devkit', 'bad.txt'), '2\n7\n1\n');
  await rejectsWith(ImagenetValDataset.open(dir, { labels: join(tmp.dir, 'devkit', 'bad.txt'), synsets }), /bad\.txt line 2 \('7'\) is not an ID in 1\.\.3/);
  const lone = join(tmp.dir, 'lone');
  await flatFolder(lone, 1);
  await rejectsWith(ImagenetValDataset.open(lone), /no ground truth was found/, /LOC_val_solution\.csv/);
  writeBytes(join(lone, 'LOC_val_solution.csv'), 'ImageId,PredictionString\nILSVRC2012_val_00000009,n01440764 1 2 3 4\n');
  await rejectsWith(ImagenetValDataset.open(lone), /ILSVRC2012_val_00000001\.JPEG has no entry in .*LOC_val_solution\.csv/);
});

test.after(() => tmp.cleanup());
test.run();
