// Retrieval evaluation: Holidays-style trapezoid average precision, ranking
// with ignored entries and ties, the chunked GPU brute-force search against a CPU ranking,
// and the whole pipeline (embed, rank, score) on a small benchmark of near-duplicate groups.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  init, MultiGrain, DataLoader, RecordDataset, createRgbImage, averagePrecision, hitsInTop, ranksInRow, topInRow, rankPositives,
  evaluateRetrieval, scoreRetrieval, extractEmbeddings, exampleQueries, retrievalExamplesSvg, type RetrievalDataset, type RetrievalTruth, type Embeddings,
} from '../../src/index.js';
import { rng } from '../helpers.js';

const test = suite('retrieval');

test.before(async () => {
  await init();
});

test('averagePrecision: the Holidays trapezoid rule on hand-computed cases', () => {
  assert.is(averagePrecision([0], 1), 1);
  assert.is(averagePrecision([1], 1), 0.25); // (0/1 + 1/2) / 2
  // hits at ranks 0 and 2 of 2 positives: (1 + 1)/2 * 1/2 + (1/2 + 2/3)/2 * 1/2
  assert.ok(Math.abs(averagePrecision([2, 0], 2) - (0.5 + (0.5 + 2 / 3) / 4)) < 1e-15);
  // one of two positives never found: half the recall is missing
  assert.is(averagePrecision([0], 2), 0.5);
  assert.is(averagePrecision([0, 1, 2], 3), 1);
  assert.throws(() => averagePrecision([], 0), /at least one relevant item/);
  assert.is(hitsInTop([0, 3, 4, 9], 4), 2);
});

test('ranksInRow: descending score, ties broken by position, ignored entries removed', () => {
  const scores = Float32Array.of(0.5, 0.9, 0.5, 0.1, 0.7);
  const truth: RetrievalTruth = { positives: [2, 3], ignore: [1] };
  // order without 1: 4 (0.7), 0 (0.5), 2 (0.5, after 0), 3 (0.1)
  assert.equal([...ranksInRow(scores, truth)], [2, 3]);
  assert.equal([...ranksInRow(scores, { positives: [0, 2], ignore: [] })], [2, 3]);
  assert.equal([...topInRow(scores, [1], 3)], [4, 0, 2]);
  assert.equal([...topInRow(scores, [], 10)], [1, 4, 0, 2, 3], 'k above the row length: all, ranked');
});

/** CPU ranking by explicit sort (exact integer scores, so float32 and float64 agree): database positions in ranked order. */
function cpuOrder(f: Embeddings, queries: number[], database: number[], truth: RetrievalTruth[]): number[][] {
  return queries.map((q, k) => {
    const score = (j: number): number => {
      let s = 0;
      for (let i = 0; i < f.dim; i++) s += f.data[q * f.dim + i]! * f.data[database[j]! * f.dim + i]!;
      return s;
    };
    return database.map((_, j) => j).filter((j) => !truth[k]!.ignore.includes(j)).sort((a, b) => score(b) - score(a) || a - b);
  });
}

function cpuRanks(f: Embeddings, queries: number[], database: number[], truth: RetrievalTruth[]): number[][] {
  return cpuOrder(f, queries, database, truth).map((order, k) => truth[k]!.positives.map((p) => order.indexOf(p)));
}

test('rankPositives: chunked GPU search = CPU sort (ties, ignore, database blocks, query chunks)', async () => {
  const rand = rng(11);
  const rows = 57;
  const dim = 9;
  // small integers: dot products are exact in float32, with many ties
  const f: Embeddings = { rows, dim, data: Float32Array.from({ length: rows * dim }, () => Math.floor(rand() * 5) - 2) };
  const queries = [3, 10, 11, 40, 56, 0];
  const database = Array.from({ length: 50 }, (_, i) => i + 7); // dataset items 7..56
  const truth = queries.map((q) => ({
    positives: [Math.floor(rand() * 50), Math.floor(rand() * 50)].filter((v, i, a) => a.indexOf(v) === i),
    ignore: q >= 7 ? [q - 7] : [],
  }));
  const expected = cpuRanks(f, queries, database, truth);
  const expectedTop = cpuOrder(f, queries, database, truth).map((order) => order.slice(0, 6));
  for (const options of [{}, { maxScoresPerChunk: 100, databaseBlock: 7 }, { maxScoresPerChunk: 1, databaseBlock: 64 }]) {
    const { ranks, top } = await rankPositives(f, queries, database, truth, { ...options, topK: 6 });
    assert.equal(ranks.map((r) => [...r]), expected, JSON.stringify(options));
    assert.equal(top.map((t) => [...t]), expectedTop, `top 6 ${JSON.stringify(options)}`);
  }
  await rankPositives(f, [99], database, [{ positives: [0], ignore: [] }]).then(
    () => assert.unreachable('index out of range accepted'),
    (err: Error) => assert.match(err.message, /dataset index 99 has no embedding/),
  );
});

/** A small retrieval benchmark: groups of near-duplicate images (one base image + noise), first of each group queries. */
class NearDuplicates extends RecordDataset implements RetrievalDataset {
  readonly queries: Int32Array;
  readonly database: Int32Array;
  readonly groundTruth: RetrievalTruth[];
  readonly queryVariants?: { family: string; level: string }[];
  constructor(groups: number, perGroup: number, withVariants = false) {
    const rand = rng(5);
    const records = [];
    for (let g = 0; g < groups; g++) {
      const base = Uint8Array.from({ length: 40 * 32 * 3 }, () => Math.floor(rand() * 256));
      for (let k = 0; k < perGroup; k++) {
        const data = base.map((v) => Math.min(255, Math.max(0, v + Math.floor(rand() * 21) - 10)));
        records.push({ image: createRgbImage(40, 32, data), label: g });
      }
    }
    super(records);
    this.database = Int32Array.from(records, (_, i) => i);
    this.queries = Int32Array.from({ length: groups }, (_, g) => g * perGroup);
    this.groundTruth = Array.from(this.queries, (q) => ({
      positives: Array.from({ length: perGroup - 1 }, (_, k) => q + 1 + k),
      ignore: [q],
    }));
    if (withVariants) this.queryVariants = Array.from(this.queries, (_, g) => ({ family: g % 2 ? 'crops' : 'strong', level: g % 2 ? `${g}` : '' }));
  }
}

test('evaluateRetrieval: near-duplicate groups score high, and equal the scores of a CPU ranking of the same embeddings', async () => {
  const data = new NearDuplicates(6, 3, true);
  const model = new MultiGrain({ backbone: 18, numClasses: 4, baseWidth: 2, poolingExponent: 3, seed: 3 });
  const loader = new DataLoader({ dataset: data, transform: { kind: 'val', mode: 'rect', size: 40 }, workers: 0 });
  const result = await evaluateRetrieval(model, data, loader, { batchSize: 4 });
  const features = await extractEmbeddings(model, loader, { batchSize: 4 });
  const ranks = cpuRanks(features, [...data.queries], [...data.database], data.groundTruth);
  const ap = ranks.map((r) => averagePrecision(r, 2));
  assert.is(result.queries, 6);
  assert.is(result.databaseSize, 18);
  ap.forEach((v, q) => assert.ok(Math.abs(result.ap[q]! - v) < 1e-12, `query ${q}: ${result.ap[q]} vs ${v}`));
  assert.ok(result.mAP > 0.9, `near duplicates should be found first: mAP ${result.mAP}`);
  // per-family means (Copydays-style query labels)
  const strong = [0, 2, 4].map((q) => ap[q]!);
  assert.ok(Math.abs(result.groups.strong! - strong.reduce((a, b) => a + b) / 3) < 1e-12);
  assert.ok(Math.abs(result.groups['crops/3']! - ap[3]!) < 1e-12);
  // the same embeddings with shuffled group labels: near chance
  const shuffled = { ...data, queries: data.queries, database: data.database, groundTruth: data.groundTruth.map((t, q) => ({ positives: t.positives.map((p) => (p + 3 * (q + 1)) % 18).filter((p) => p !== data.queries[q]), ignore: t.ignore })) } as unknown as RetrievalDataset;
  const chance = await scoreRetrieval(features, shuffled);
  assert.ok(chance.mAP < result.mAP - 0.3, `shuffled truth ${chance.mAP} vs ${result.mAP}`);
  await loader.close();
  model.parameters().forEach((t) => t.dispose());
});

test('exampleQueries: spread over the AP order, best first; retrievalExamplesSvg: one framed thumbnail per cell', () => {
  const ap = [0.5, 1, 0.1, 0.9, 0.3];
  assert.equal(exampleQueries(ap, 3), [1, 0, 2]); // best, median, worst
  assert.equal(exampleQueries(ap, 9), [1, 3, 0, 4, 2]);
  assert.equal(exampleQueries(ap, 1), [1]);
  const img = (w: number): { href: string; width: number; height: number } => ({ href: `data:image/png;base64,${w}`, width: w, height: 10 });
  const svg = retrievalExamplesSvg('t <&>', [
    { query: img(20), caption: 'AP 1', results: [{ image: img(30), relevant: true }, { image: img(40), relevant: false }] },
    { query: img(25), caption: 'AP 0', results: [] },
  ]);
  assert.is(svg.split('<image ').length - 1, 4);
  assert.is(svg.split('fill="#2ca02c"').length - 1, 1);
  assert.is(svg.split('fill="#d62728"').length - 1, 1);
  assert.ok(svg.includes('t &lt;&amp;&gt;'), 'title escaped');
  assert.match(svg, /<image x="\d+" y="\d+" width="40" height="10" href="data:image\/png;base64,40"\/>/);
});

test.run();
