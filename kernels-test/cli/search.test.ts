// Image search end to end on the committed photos: an embeddings folder (as `multigrain embed`
// writes it: embeddings.npy, paths.txt, embed_args.json) -> `multigrain index build` ->
// `multigrain search` (each photo finds itself first with score 1; contact sheet written), and
// edited copies made here with sharp finding their originals. The model is the small random
// MultiGrain ResNet-18 (width 2) fixture: no trained network is committed, so a random one's
// GeM features are what is tested. They are robust to JPEG at quality 10 and to a colour change
// (each copy ranks its original first); to a 10% crop and a 5-degree rotation only loosely (the
// original within the best 3 of 4); a 90-degree rotation is beyond it (not asserted).
// Also: an approximate (HNSW) index built and searched through the CLI, and `index build
// --data-path` embedding the photos folder and indexing it in one go.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { init, openMultiGrain, extractEmbeddings, DataLoader, ImageListDataset, RetrievalIndex, openRetrievalIndex, encodeNpy, type Embeddings } from '../../src/index.js';
import { scratchDir } from '../scratch-dir.js';

const test = suite('search');
const CLI = resolve('dist/node/cli.js');
const CKPT = resolve('kernels-test/multigrain/fixtures/pth/mg_r18w2_white_legacy.pth');
const SIZE = 128;
const PHOTOS = ['chelsea.jpg', 'coffee.webp', 'rocket.jpg', 'astronaut.png'].map((f) => resolve('kernels-test/fixtures/images', f));

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function embed(paths: string[]): Promise<Embeddings> {
  const { model } = await openMultiGrain(CKPT);
  const loader = new DataLoader({ dataset: ImageListDataset.fromNames('/', paths), transform: { kind: 'val', mode: 'rect', size: SIZE }, workers: 0 });
  try {
    return await extractEmbeddings(model, loader, { batchSize: 1 });
  } finally {
    await loader.close();
  }
}

/** An embeddings folder as `multigrain embed` writes it. */
async function embeddingsFolder(dir: string, paths: string[]): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const e = await embed(paths);
  writeFileSync(join(dir, 'embeddings.npy'), encodeNpy({ dtype: 'float32', shape: [e.rows, e.dim], data: e.data }));
  writeFileSync(join(dir, 'paths.txt'), paths.join('\n') + '\n');
  writeFileSync(join(dir, 'embed_args.json'), JSON.stringify({ checkpoint: CKPT, inputSize: SIZE, inputCrop: 'rect', embeddingDim: e.dim, whitened: true }));
}

let root = '';
let indexFile = '';

test.before(async () => {
  await init();
  root = scratchDir('search');
  await embeddingsFolder(join(root, 'emb'), PHOTOS);
  indexFile = join(root, 'photos.index');
});

test('index build, then search: each photo finds itself first (score 1); ranked paths printed; contact sheet written', async () => {
  const built = cli('index', 'build', indexFile, '--embeddings', join(root, 'emb'));
  assert.is(built.status, 0, built.stderr);
  assert.match(built.stdout, /indexed 4 \d+-d embeddings/);
  const out = join(root, 'sheet');
  const r = cli('search', '--index', indexFile, '--image', PHOTOS[1]!, '-k', '3', '--output', out);
  assert.is(r.status, 0, r.stderr);
  const lines = r.stdout.split('\n').filter((l) => /^\s+\d+\s+-?\d\.\d{4}\s+/.test(l));
  assert.is(lines.length, 3, r.stdout);
  assert.match(lines[0]!, /^\s+1\s+1\.0000\s+.*coffee\.webp$/);
  const scores = lines.map((l) => Number(l.trim().split(/\s+/)[1]));
  assert.ok(scores[0]! >= scores[1]! && scores[1]! >= scores[2]!, `ranked: ${scores}`);
  const html = readFileSync(join(out, 'search.html'), 'utf8');
  assert.is((html.match(/<img /g) ?? []).length, 4, 'the query and 3 neighbours');
  assert.match(html, /coffee\.webp/);
  const svg = readFileSync(join(out, 'search.svg'), 'utf8');
  assert.is((svg.match(/<image /g) ?? []).length, 4);
});

test('edited copies (JPEG q10, colour change, crop, 5-degree rotation) find their originals', async () => {
  const dir = join(root, 'copies');
  mkdirSync(dir);
  const edits: Record<string, [(s: sharp.Sharp, w: number, h: number) => sharp.Sharp, number]> = {
    jpeg10: [(s) => s.jpeg({ quality: 10 }), 0],
    colour: [(s) => s.modulate({ brightness: 1.2, saturation: 0.6, hue: 20 }).jpeg({ quality: 90 }), 0],
    crop: [(s, w, h) => s.extract({ left: Math.round(w * 0.1), top: Math.round(h * 0.1), width: Math.round(w * 0.8), height: Math.round(h * 0.8) }).jpeg({ quality: 90 }), 2],
    rot5: [(s) => s.rotate(5, { background: '#808080' }).jpeg({ quality: 90 }), 2],
  };
  const copies: { file: string; original: string; edit: string; worst: number }[] = [];
  for (const [i, p] of PHOTOS.entries()) {
    const { width, height } = await sharp(p).metadata();
    for (const [edit, [apply, worst]] of Object.entries(edits)) {
      const file = join(dir, `${i}-${edit}.jpg`);
      await apply(sharp(p), width!, height!).toFile(file);
      copies.push({ file, original: p, edit, worst });
    }
  }
  const index = await RetrievalIndex.load(indexFile);
  const hits = await index.search(await embed(copies.map((c) => c.file)), 4);
  copies.forEach((c, j) => {
    const rank = hits[j]!.ids.indexOf(c.original);
    assert.ok(rank >= 0 && rank <= c.worst, `${c.edit} of ${c.original}: original at rank ${rank} (allowed <= ${c.worst}); got ${hits[j]!.ids}`);
  });
  index.dispose();
  // and through the command: a JPEG q10 copy's first result is its original
  const r = cli('search', '--index', indexFile, '--image', copies[4]!.file, '-k', '2');
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /\n\s+1\s+0\.\d{4}\s+.*coffee\.webp\n/);
});

test('bad input: missing index, k <= 0, other dimension, missing embeddings, paths that do not match', async () => {
  const missing = cli('search', '--index', join(root, 'nope.index'), '--image', PHOTOS[0]!);
  assert.is(missing.status, 1);
  assert.match(missing.stderr, /nope\.index: no such index file/);
  const k0 = cli('search', '--index', indexFile, '--image', PHOTOS[0]!, '-k', '0');
  assert.is(k0.status, 1);
  assert.match(k0.stderr, /--k/);
  const noImage = cli('search', '--index', indexFile, '--image', join(root, 'nope.jpg'));
  assert.match(noImage.stderr, /--image .*nope\.jpg: no such file/);
  // an index of 7-d vectors whose checkpoint embeds in another dimension
  const other = new RetrievalIndex(7, { settings: { checkpoint: CKPT, inputSize: SIZE, inputCrop: 'rect' } });
  other.add(Float32Array.from({ length: 14 }, (_, i) => i + 1), ['a', 'b']);
  await other.save(join(root, 'other.index'));
  const dim = cli('search', '--index', join(root, 'other.index'), '--image', PHOTOS[0]!);
  assert.is(dim.status, 1);
  assert.match(dim.stderr, /7-d vectors, but its checkpoint .* embeds in \d+-d/);
  const noEmb = cli('index', 'build', join(root, 'x.index'), '--embeddings', join(root, 'nothing'));
  assert.match(noEmb.stderr, /--embeddings .*nothing: no such folder/);
  const bad = join(root, 'bad-emb');
  mkdirSync(bad);
  writeFileSync(join(bad, 'embeddings.npy'), encodeNpy({ dtype: 'float32', shape: [2, 3], data: new Float32Array(6).fill(1) }));
  writeFileSync(join(bad, 'paths.txt'), 'one.jpg\n');
  const mismatch = cli('index', 'build', join(root, 'y.index'), '--embeddings', bad);
  assert.match(mismatch.stderr, /paths\.txt: 1 paths for 2 embeddings/);
  assert.not.ok(existsSync(join(root, 'y.index')));
  const noOut = cli('index', 'build', '--embeddings', bad);
  assert.match(noOut.stderr, /output index file is required/);
});

test('index build --kind hnsw: an approximate index that search detects; same ranking as exact on 4 photos; ef-search', async () => {
  const hnswFile = join(root, 'photos-hnsw.index');
  const built = cli('index', 'build', hnswFile, '--embeddings', join(root, 'emb'), '--kind', 'hnsw', '--m', '8', '--ef-search', '20');
  assert.is(built.status, 0, built.stderr);
  assert.match(built.stdout, /indexed 4 \d+-d embeddings .*an HNSW index \(M 8, efConstruction 200, efSearch 20\)/);
  const index = await openRetrievalIndex(hnswFile);
  assert.is(index.kind, 'hnsw');
  const r = cli('search', '--index', hnswFile, '--image', PHOTOS[2]!, '-k', '4');
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /approximate, HNSW efSearch 20/);
  const exact = cli('search', '--index', indexFile, '--image', PHOTOS[2]!, '-k', '4');
  assert.match(exact.stdout, /\(exact\)/);
  const ranked = (out: string): string[] => out.split('\n').filter((l) => /^\s+\d+\s+-?\d\.\d{4}\s+/.test(l)).map((l) => l.trim());
  assert.is(ranked(r.stdout).length, 4);
  assert.equal(ranked(r.stdout), ranked(exact.stdout)); // 4 entries: the graph finds them all, scores exact
  assert.match(ranked(r.stdout)[0]!, /^1\s+1\.0000\s+.*rocket\.jpg$/);
  const ef = cli('search', '--index', hnswFile, '--image', PHOTOS[2]!, '--ef-search', '50');
  assert.match(ef.stdout, /efSearch 50/);
  // --approximate is --kind hnsw
  const approx = cli('index', 'build', join(root, 'approx.index'), '--embeddings', join(root, 'emb'), '--approximate');
  assert.is(approx.status, 0, approx.stderr);
  assert.is((await openRetrievalIndex(join(root, 'approx.index'))).kind, 'hnsw');
});

test('index build --data-path: embeds the committed photos (OUT.embeddings, unreadable skipped) then indexes them', async () => {
  const out = join(root, 'folder.index');
  const r = cli('index', 'build', out, '--data-path', resolve('kernels-test/fixtures/images'), '--checkpoint', CKPT,
    '--input-size', String(SIZE), '--skip-unreadable', '--workers', '0', '--kind', 'hnsw');
  assert.is(r.status, 0, r.stderr);
  assert.ok(existsSync(join(`${out}.embeddings`, 'embeddings.npy')), 'embeddings kept beside the index');
  const paths = readFileSync(join(`${out}.embeddings`, 'paths.txt'), 'utf8').split('\n').filter((l) => l);
  const index = await openRetrievalIndex(out);
  assert.is(index.kind, 'hnsw');
  assert.is(index.size, paths.length);
  for (const p of PHOTOS) assert.ok(index.ids.includes(p), `${p} indexed`);
  assert.match(r.stdout, new RegExp(`indexed ${paths.length} \\d+-d embeddings`));
  // the query, embedded as recorded, finds itself
  const s = cli('search', '--index', out, '--image', PHOTOS[0]!, '-k', '1');
  assert.is(s.status, 0, s.stderr);
  assert.match(s.stdout, /\n\s+1\s+1\.0000\s+.*chelsea\.jpg\n/);
});

test('index build: bad flag combinations are named', async () => {
  const emb = join(root, 'emb');
  const both = cli('index', 'build', join(root, 'z.index'), '--embeddings', emb, '--data-path', emb);
  assert.is(both.status, 1);
  assert.match(both.stderr, /either --embeddings DIR or --data-path/);
  const none = cli('index', 'build', join(root, 'z.index'));
  assert.match(none.stderr, /--embeddings DIR or --data-path DIR is required/);
  const ckpt = cli('index', 'build', join(root, 'z.index'), '--embeddings', emb, '--checkpoint', CKPT);
  assert.match(ckpt.stderr, /--checkpoint goes with --data-path/);
  const m = cli('index', 'build', join(root, 'z.index'), '--embeddings', emb, '--m', '8');
  assert.match(m.stderr, /--m is an HNSW parameter: add --kind hnsw/);
  const kind = cli('index', 'build', join(root, 'z.index'), '--embeddings', emb, '--kind', 'ivf');
  assert.match(kind.stderr, /--kind/);
  const m1 = cli('index', 'build', join(root, 'z.index'), '--embeddings', emb, '--kind', 'hnsw', '--m', '1');
  assert.match(m1.stderr, /--m/);
  const noCkpt = cli('index', 'build', join(root, 'z.index'), '--data-path', resolve('kernels-test/fixtures/images'));
  assert.match(noCkpt.stderr, /--checkpoint .* is required/);
  const empty = join(root, 'empty-folder');
  mkdirSync(empty);
  const noImages = cli('index', 'build', join(root, 'z.index'), '--data-path', empty, '--checkpoint', CKPT);
  assert.match(noImages.stderr, /--data-path .*empty-folder: no images there/);
  const ef = cli('search', '--index', indexFile, '--image', PHOTOS[0]!, '--ef-search', '10');
  assert.match(ef.stderr, /--ef-search: .* is an exact index/);
  assert.not.ok(existsSync(join(root, 'z.index')));
});

test.run();
