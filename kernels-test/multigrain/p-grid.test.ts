// The p grid of `finetune-p --p-grid`: values and inclusive ranges parsed, sorted and deduplicated
// (bad items refused naming the flag); p* = best top-1, ties to the p closest to the trained p;
// the held-out images are the next N of each class, disjoint from the N p-finetuning tunes on.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parsePGrid, bestP, pGridTable, imagesPerClassAfter, firstImagesPerClass, P_GRID_MAX, type PGridPoint } from '../../src/index.js';

const test = suite('p grid');

test('parsePGrid: values, ranges (inclusive, no float drift), mixed, sorted, distinct', () => {
  assert.equal(parsePGrid('1,1.5,2,3'), [1, 1.5, 2, 3]);
  assert.equal(parsePGrid('1:5:0.5'), [1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5]);
  assert.equal(parsePGrid('1:2:0.1'), [1, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7, 1.8, 1.9, 2]);
  assert.equal(parsePGrid('4,1:3:1,2.5,2'), [1, 2, 2.5, 3, 4]);
  assert.equal(parsePGrid('1:2.2:0.5'), [1, 1.5, 2], 'the stop need not be on the grid');
  assert.equal(parsePGrid(' 3 '), [3]);
});

test('parsePGrid: bad items name the flag and the item', () => {
  assert.throws(() => parsePGrid('1,,2', '--p-grid'), /--p-grid: '' is not a number/);
  assert.throws(() => parsePGrid('1:5:-1'), /'1:5:-1': the step must be positive, got -1/);
  assert.throws(() => parsePGrid('3:1:0.5'), /the stop 1 is below the start 3/);
  assert.throws(() => parsePGrid('1:2:3:4'), /'1:2:3:4' is no range/);
  assert.throws(() => parsePGrid('-1:1:1'), /p = -1: GeM needs p > 0/);
  assert.throws(() => parsePGrid('inf'), /'inf' is not a number/);
  assert.throws(() => parsePGrid(`1:${P_GRID_MAX + 1}:1`), new RegExp(`has ${P_GRID_MAX + 1} values, more than ${P_GRID_MAX}`));
});

test('bestP: highest top-1; a tie goes to the p closest to the trained p, then the smaller', () => {
  const pts = (rows: [number, number][]): PGridPoint[] => rows.map(([p, top1]) => ({ p, top1, top5: 100, crossEntropy: 1 }));
  assert.equal(bestP(pts([[1, 50], [2, 70], [3, 60]]), 3), { best: pts([[2, 70]])[0], tied: [2] });
  assert.is(bestP(pts([[1, 70], [2, 60], [4, 70]]), 3).best.p, 4);
  assert.equal(bestP(pts([[1, 70], [2, 60], [4, 70]]), 3).tied, [1, 4]);
  assert.is(bestP(pts([[1, 70], [2, 60], [4, 70]]), 2).best.p, 1);
  assert.is(bestP(pts([[2, 70], [4, 70]]), 3).best.p, 2, 'equal distance: the smaller p');
  const table = pGridTable(pts([[1, 50], [2, 70]]), 2).split('\n');
  assert.is(table.length, 3);
  assert.ok(table[2]!.endsWith('<- p*') && !table[1]!.includes('p*'), table.join('\n'));
});

test('imagesPerClassAfter: the next N of each class, disjoint from the first N; short classes give what they have', () => {
  const labels = Int32Array.from([0, 1, 0, 0, 1, 2, 0, 1, 0, -1, 1]);
  assert.equal(Array.from(imagesPerClassAfter(labels, 2, 2)), [3, 6, 7, 10]);
  assert.equal(Array.from(imagesPerClassAfter(labels, 0, 2)), Array.from(firstImagesPerClass(labels, 2)));
  const first = new Set(firstImagesPerClass(labels, 2));
  assert.ok(Array.from(imagesPerClassAfter(labels, 2, 2)).every((i) => !first.has(i)));
  assert.throws(() => imagesPerClassAfter(labels, -1, 2), /non-negative integer, got -1/);
});

test.run();
