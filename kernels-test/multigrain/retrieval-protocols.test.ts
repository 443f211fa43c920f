// The three retrieval protocols end to end on small synthetic layouts: each benchmark is opened
// from its release folder layout, given hand-placed embeddings (unit vectors at chosen angles,
// so each ranking can be worked out by hand), and scored; the APs, the per-family Copydays
// results and the UKBench N-S score are compared with the values computed by hand below.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import {
  init, scoreRetrieval, HolidaysDataset, CopydaysDataset, UkbenchDataset, COPYDAYS_SUBSETS, type Embeddings, type RetrievalDataset,
} from '../../src/index.js';
import { scratchDir } from '../scratch-dir.js';

const test = suite('retrieval protocols');

test.before(async () => {
  await init();
});

async function images(root: string, files: readonly string[]): Promise<void> {
  for (const f of files) {
    mkdirSync(join(root, f, '..'), { recursive: true });
    await sharp({ create: { width: 8, height: 6, channels: 3, background: { r: 90, g: 90, b: 90 } } }).jpeg().toFile(join(root, f));
  }
}

/** Row i = the unit vector at the angle (degrees) of item i's file name. Dot product = cos(angle difference). */
function embeddingsAt(ds: RetrievalDataset, root: string, angle: Record<string, number>): Embeddings {
  const data = new Float32Array(ds.length * 2);
  for (let i = 0; i < ds.length; i++) {
    const rel = ds.record(i).path!.slice(root.length + 1);
    const a = angle[rel];
    if (a === undefined) throw new Error(`no angle for ${rel}`);
    data[2 * i] = Math.cos((a * Math.PI) / 180);
    data[2 * i + 1] = Math.sin((a * Math.PI) / 180);
  }
  return { rows: ds.length, dim: 2, data };
}

const near = (a: number, b: number, what: string): void => assert.ok(Math.abs(a - b) < 1e-9, `${what}: ${a} vs ${b}`);

test('Holidays: query = xx00 of each group, itself ignored, trapezoid AP', async () => {
  const root = scratchDir('protocol-holidays');
  const angle = { 'jpg/100000.jpg': 0, 'jpg/100001.jpg': 10, 'jpg/100002.jpg': 105, 'jpg/100100.jpg': 50, 'jpg/100101.jpg': 170 };
  await images(root, Object.keys(angle));
  const ds = await HolidaysDataset.open(root);
  const r = await scoreRetrieval(embeddingsAt(ds, root, angle), ds);
  // query 100000 (0 deg), itself left out: 100001 (10), 100100 (50), 100002 (105), 100101 (170);
  // its positives at ranks 0 and 2: (1 + 1)/2 * 1/2 + (1/2 + 2/3)/2 * 1/2 = 1/2 + 7/24
  near(r.ap[0]!, 19 / 24, 'AP of 100000');
  // query 100100 (50): 100001 (40 away), 100000 (50), 100002 (55), 100101 (120): its positive at rank 3: (0/3 + 1/4)/2
  near(r.ap[1]!, 1 / 8, 'AP of 100100');
  near(r.mAP, 11 / 24, 'mAP');
  assert.equal([r.queries, r.databaseSize], [2, 5]);
});

test('Copydays: one positive per copy, distractors/ in the root join the database, per family and level; strong by default in evaluate', async () => {
  const root = scratchDir('protocol-copydays');
  const angle = {
    '200000.jpg': 0, '200100.jpg': 90, 'distractors/x1.jpg': 20, 'distractors/sub/x2.jpg': 200,
    'crops/10/200001.jpg': 15, 'jpegqual/5/200100.jpg': 80, 'strong/200001.jpg': 60, 'strong/200101.jpg': 95,
  };
  await images(root, Object.keys(angle));
  const all = await CopydaysDataset.open(root, { variants: COPYDAYS_SUBSETS.all });
  assert.is(all.numDistractors, 2, 'root/distractors/ walked, its sub-folders too');
  assert.is(all.record(all.length - 1).path, join(root, 'distractors/sub/x2.jpg'));
  const r = await scoreRetrieval(embeddingsAt(all, root, angle), all);
  // database: 200000 (0), 200100 (90), x1 (20), x2 (200)
  // crops/10 copy of 200000 at 15: x1 (5 away) first, its original second: AP (0/1 + 1/2)/2 = 1/4
  // jpegqual/5 copy of 200100 at 80: its original first: AP 1
  // strong copy of 200000 at 60: 200100 (30), x1 (40), 200000 (60): rank 2, AP (0/2 + 1/3)/2 = 1/6
  // strong copy of 200100 at 95: its original first: AP 1
  assert.equal(all.queryVariants.map((v) => `${v.family}/${v.level}`), ['crops/10', 'jpegqual/5', 'strong/', 'strong/']);
  [1 / 4, 1, 1 / 6, 1].forEach((ap, q) => near(r.ap[q]!, ap, `AP of query ${q}`));
  near(r.mAP, 29 / 48, 'mAP of all');
  assert.equal(Object.keys(r.groups), ['crops', 'crops/10', 'jpegqual', 'jpegqual/5', 'strong']);
  near(r.groups.crops!, 1 / 4, 'crops');
  near(r.groups['crops/10']!, 1 / 4, 'crops/10');
  near(r.groups.jpegqual!, 1, 'jpegqual');
  near(r.groups.strong!, 7 / 12, 'strong');
  assert.equal(r.groupQueries, { crops: 1, 'crops/10': 1, jpegqual: 1, 'jpegqual/5': 1, strong: 2 });

  // the paper's figure: strong, with distractors; evaluate's default subset
  const strong = await CopydaysDataset.open(root, { variants: COPYDAYS_SUBSETS.strong });
  const s = await scoreRetrieval(embeddingsAt(strong, root, angle), strong);
  near(s.mAP, 7 / 12, 'strong mAP');
  assert.equal([s.queries, s.databaseSize], [2, 4]);
  // without the distractors, x1 no longer comes before 200000 for the copy at 60: rank 1, AP 1/4
  const bare = await CopydaysDataset.open(root, { variants: COPYDAYS_SUBSETS.strong, distractorRoot: false });
  const b = await scoreRetrieval(embeddingsAt(bare, root, angle), bare);
  near(b.ap[0]!, 1 / 4, 'strong copy without distractors');
  assert.is(bare.numDistractors, 0);
  const jpeg = await CopydaysDataset.open(root, { variants: COPYDAYS_SUBSETS.jpeg });
  assert.equal(jpeg.queryVariants.map((v) => v.family), ['jpegqual']);
});

test('Copydays: any other folder in the root is named in the error', async () => {
  const root = scratchDir('protocol-copydays-stray');
  await images(root, ['200000.jpg', 'strong/200001.jpg', 'thumbs/200000.jpg', 'distractors/D00001.jpg']);
  try {
    await CopydaysDataset.open(root);
    assert.unreachable('a stray folder was accepted');
  } catch (e) {
    const msg = (e as Error).message;
    assert.match(msg, `${join(root, 'thumbs')}/`);
    assert.match(msg, /unexpected folder/);
    const named = msg.slice(0, msg.indexOf('(expected'));
    assert.ok(!named.includes('distractors') && !named.includes('strong'), `only the stray folder is named: ${msg}`);
  }
});

test('UKBench: every image a query, its group of 4 (itself included) the positives; N-S = hits in the top 4', async () => {
  const root = scratchDir('protocol-ukbench');
  const angles = [0, 10, 25, 60, 42, 180, 192, 200];
  const angle = Object.fromEntries(angles.map((a, i) => [`full/ukbench0000${i}.jpg`, a]));
  await images(root, Object.keys(angle));
  const ds = await UkbenchDataset.open(root);
  const r = await scoreRetrieval(embeddingsAt(ds, root, angle), ds);
  // top 4 of each query (by angle distance):
  //   0: 0 1 2 4 (3 of its group)   1: 1 0 2 4 (3)   2: 2 1 4 0 (3)   3: 3 4 2 1 (3)
  //   4: 4 2 3 1 (1: only itself)   5: 5 6 7 3 (3)   6: 6 7 5 3 (3)   7: 7 6 5 3 (3)
  near(r.top4, 22 / 8, 'N-S score');
  // query 4's group (4, 5, 6, 7) at ranks 0, 5, 6, 7 of 4, 2, 3, 1, 0, 5, 6, 7
  near(r.ap[4]!, ((1 + 1) / 2 + (1 / 5 + 2 / 6) / 2 + (2 / 6 + 3 / 7) / 2 + (3 / 7 + 4 / 8) / 2) / 4, 'AP of query 4');
  assert.equal([r.queries, r.databaseSize], [8, 8]);
});

test.run();
