// embedImages: a folder of photos of several sizes embedded in chunks. The rows equal the
// embeddings of the same images taken one by one (grouping rect images by size changes only
// the batches), paths.txt follows the rows, an interrupted run resumes without recomputing its
// chunks and ends with the same files, grouping by size cuts the forward passes, and bad input
// (another job in the folder, an unreadable image) is refused by name.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import {
  init, MultiGrain, DataLoader, ImageListDataset, walkImages, extractEmbeddings, embedImages, decodeNpy, sizeBucketOrder,
  readSafetensors, hostTensorToFloat32, evaluateRetrieval, RecordDataset, type EmbedOptions, type RetrievalDataset,
} from '../../src/index.js';
import { scratchDir } from '../scratch-dir.js';

const test = suite('embed');
const PHOTOS = ['astronaut.png', 'chelsea.jpg', 'coffee.webp', 'rocket.jpg'];

/** 8 generated images whose names interleave 4 sizes (at rect 64: 64x48, 48x64, 64x64, 64x42), plus the 4 photos. */
async function photoFolder(): Promise<string> {
  const root = scratchDir('embed-images');
  const sizes: [number, number][] = [[80, 60], [60, 80], [80, 80], [90, 60]];
  let s = 11;
  const rand = (): number => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  for (let i = 0; i < 8; i++) {
    const [w, h] = sizes[i % 4]!;
    const px = Buffer.from(Array.from({ length: w * h * 3 }, () => Math.floor(rand() * 256)));
    await sharp(px, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 90 }).toFile(join(root, `img${i}.jpg`));
  }
  for (const p of PHOTOS) copyFileSync(join('kernels-test/fixtures/images', p), join(root, p));
  return root;
}

/** The folder as a retrieval benchmark: image 0 queries the rest, image 4 is its positive. */
class Bench extends RecordDataset implements RetrievalDataset {
  readonly queries = Int32Array.of(0);
  readonly database = Int32Array.from({ length: 12 }, (_, i) => i);
  readonly groundTruth = [{ positives: [4], ignore: [0] }];
  constructor(list: ImageListDataset) {
    super(Array.from({ length: list.length }, (_, i) => list.record(i)));
  }
}

function tinyModel(): MultiGrain {
  return new MultiGrain({ backbone: 18, numClasses: 4, baseWidth: 2, poolingExponent: 3, seed: 5 });
}

/** Counts the model's forward passes. */
function countForwards(model: MultiGrain): { calls: number } {
  const counter = { calls: 0 };
  const forward = model.forward.bind(model);
  model.forward = ((x: Parameters<MultiGrain['forward']>[0]) => { counter.calls++; return forward(x); }) as MultiGrain['forward'];
  return counter;
}

function readNpy(file: string): { shape: number[]; data: Float32Array } {
  const a = decodeNpy(new Uint8Array(readFileSync(file)), file);
  return { shape: a.shape, data: a.data as Float32Array };
}

const lines = (file: string): string[] => readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');

test('the rows equal one-by-one embeddings; an interrupted run resumes without recomputing and gives the same files', async () => {
  await init();
  const root = await photoFolder();
  const data = ImageListDataset.fromNames(root, await walkImages(root));
  assert.is(data.length, 12);
  const model = tinyModel();
  const loader = new DataLoader({ dataset: data, transform: { kind: 'val', mode: 'rect', size: 64 }, workers: 0 });
  const reference = await extractEmbeddings(model, loader, { batchSize: 1, bucketBySize: false });
  await loader.close();
  const dim = model.embeddingDim;

  const forwards = countForwards(model);
  const out = join(scratchDir('embed-out'), 'emb');
  const options: EmbedOptions = { output: out, mode: 'rect', size: 64, checkpoint: 'tiny', batchSize: 8, chunkSize: 5, workers: 0, safetensors: true };
  const first = await embedImages(model, data, { ...options, maxChunks: 1 });
  assert.is(first.complete, false);
  assert.is(first.chunksComputed, 1);
  assert.is(first.computedImages, 5);
  assert.is(forwards.calls, first.batches);
  assert.equal(readdirSync(join(out, 'chunks')).sort(), ['chunk_000000.json', 'chunk_000000.npy']);
  assert.not.ok(existsSync(join(out, 'embeddings.npy')));

  forwards.calls = 0;
  const progress: number[] = [];
  const second = await embedImages(model, data, options, (p) => progress.push(p.done));
  assert.is(second.complete, true);
  assert.is(second.chunksReused, 1, 'the first chunk is kept');
  assert.is(second.chunksComputed, 2);
  assert.is(second.computedImages, 7, 'only the images of the missing chunks are embedded');
  assert.is(forwards.calls, second.batches);
  assert.is(progress[0], 5, 'progress starts at the images done before');
  assert.is(progress[progress.length - 1], 12);
  assert.equal(readdirSync(join(out, 'chunks')), [], 'the chunks are removed after the merge');

  const e = readNpy(join(out, 'embeddings.npy'));
  assert.equal(e.shape, [12, dim]);
  assert.equal(lines(join(out, 'paths.txt')), Array.from({ length: 12 }, (_, i) => data.record(i).path!));
  let worst = 0;
  for (let i = 0; i < e.data.length; i++) worst = Math.max(worst, Math.abs(e.data[i]! - reference.data[i]!));
  assert.ok(worst < 1e-4, `rows differ from the one-by-one embeddings by ${worst}`);
  const st = readSafetensors(new Uint8Array(readFileSync(join(out, 'embeddings.safetensors'))));
  assert.equal([...hostTensorToFloat32(st.tensors.get('embeddings')!)], [...e.data]);
  const args = JSON.parse(readFileSync(join(out, 'embed_args.json'), 'utf8'));
  assert.equal([args.inputSize, args.inputCrop, args.embeddingDim, args.whitened, args.images, args.poolingExponent], [64, 'rect', dim, false, 12, 3]);

  // the same job in one go gives the same bytes
  const once = join(scratchDir('embed-once'), 'emb');
  const whole = await embedImages(model, data, { ...options, output: once });
  assert.is(whole.chunksReused, 0);
  assert.ok(Buffer.from(readFileSync(join(once, 'embeddings.npy'))).equals(readFileSync(join(out, 'embeddings.npy'))));
  // a rerun of a finished job computes nothing
  forwards.calls = 0;
  const again = await embedImages(model, data, options);
  assert.is(again.complete, true);
  assert.is(again.computedImages, 0);
  assert.is(forwards.calls, 0);
  assert.is(again.rows, 12);

  // another scale in the same folder is refused, naming the difference
  try {
    await embedImages(model, data, { ...options, size: 72 });
    assert.unreachable('another job was accepted');
  } catch (err) {
    assert.match((err as Error).message, /embed_args\.json records another embedding job \(inputSize: 64 there, 72 now\)/);
  }
  model.parameters().forEach((t) => t.dispose());
});

test('grouping rect images by output size cuts the forward passes (same rows)', async () => {
  await init();
  const root = await photoFolder();
  const data = ImageListDataset.fromNames(root, await walkImages(root));
  // output sizes at rect 64: img0,4 64x48; img1,5 48x64; img2,6 + astronaut 64x64; img3,7 + chelsea, coffee, rocket 64x42
  const order = await sizeBucketOrder(data, Int32Array.from({ length: 12 }, (_, i) => i), 'rect', 64);
  assert.equal([...order].sort((a, b) => a - b), Array.from({ length: 12 }, (_, i) => i), 'a permutation');
  const model = tinyModel();
  const forwards = countForwards(model);
  const base: EmbedOptions = { output: '', mode: 'rect', size: 64, checkpoint: 'tiny', batchSize: 8, chunkSize: 1024, workers: 0 };
  const grouped = await embedImages(model, data, { ...base, output: join(scratchDir('embed-b'), 'o') });
  const groupedCalls = forwards.calls;
  forwards.calls = 0;
  const plain = await embedImages(model, data, { ...base, output: join(scratchDir('embed-p'), 'o'), bucketBySize: false });
  assert.is(groupedCalls, 4, 'one forward pass per output size');
  assert.is(grouped.batches, 4);
  assert.is(forwards.calls, plain.batches);
  assert.ok(plain.batches >= 9, `in list order the sizes alternate: ${plain.batches} passes`);

  // evaluate embeds through extractEmbeddings, which groups by default and keeps the row order
  const loader = new DataLoader({ dataset: data, transform: { kind: 'val', mode: 'rect', size: 64 }, workers: 0 });
  const oneByOne = await extractEmbeddings(model, loader, { batchSize: 1, bucketBySize: false });
  forwards.calls = 0;
  const bucketed = await extractEmbeddings(model, loader, { batchSize: 8 });
  assert.is(bucketed.batches, 4);
  assert.is(forwards.calls, 4);
  assert.ok(bucketed.data.every((v, i) => Math.abs(v - oneByOne.data[i]!) < 1e-4), 'same rows, same order');
  const bench = new Bench(data);
  const result = await evaluateRetrieval(model, bench, new DataLoader({ dataset: bench, transform: { kind: 'val', mode: 'rect', size: 64 }, workers: 0 }), { batchSize: 8 });
  assert.is(result.extraction!.images, 12);
  assert.is(result.extraction!.batches, 4, 'evaluate runs one forward pass per output size');
  await loader.close();
  model.parameters().forEach((t) => t.dispose());
});

test('an unreadable image stops the run naming it, or is skipped and listed with skipUnreadable', async () => {
  await init();
  const root = await photoFolder();
  writeFileSync(join(root, 'broken.jpg'), Buffer.from('not a jpeg at all'));
  const data = ImageListDataset.fromNames(root, await walkImages(root));
  const model = tinyModel();
  const options: EmbedOptions = { output: join(scratchDir('embed-bad'), 'o'), mode: 'rect', size: 64, checkpoint: 'tiny', batchSize: 4, chunkSize: 4, workers: 0 };
  try {
    await embedImages(model, data, options);
    assert.unreachable('an unreadable image was accepted');
  } catch (err) {
    assert.match((err as Error).message, /cannot decode image .*broken\.jpg/);
  }
  const skippedNow: string[] = [];
  const out = join(scratchDir('embed-skip'), 'o');
  const r = await embedImages(model, data, { ...options, output: out, skipUnreadable: true, onSkip: (f) => skippedNow.push(f) });
  const broken = join(root, 'broken.jpg');
  assert.equal(r.skipped, [broken]);
  assert.equal(skippedNow, [broken]);
  assert.is(r.rows, 12);
  assert.equal(lines(join(out, 'skipped.txt')), [broken]);
  const paths = lines(join(out, 'paths.txt'));
  assert.equal(paths, Array.from({ length: 13 }, (_, i) => data.record(i).path!).filter((p) => p !== broken));
  assert.equal(readNpy(join(out, 'embeddings.npy')).shape, [12, model.embeddingDim]);
  model.parameters().forEach((t) => t.dispose());
});

test('an empty image set is refused', async () => {
  await init();
  const model = tinyModel();
  const empty = ImageListDataset.fromNames(scratchDir('embed-empty'), []);
  try {
    await embedImages(model, empty, { output: join(scratchDir('embed-e'), 'o'), mode: 'rect', size: 64, checkpoint: 'tiny' });
    assert.unreachable('an empty set was accepted');
  } catch (err) {
    assert.match((err as Error).message, /no images to embed/);
  }
  model.parameters().forEach((t) => t.dispose());
});

test.run();
