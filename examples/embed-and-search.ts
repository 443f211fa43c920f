// Embed a folder of photos with a MultiGrain checkpoint, index them, and search the index with
// a crop of one photo: that photo comes first.
// Run: node tools/build.mjs && node build/examples/embed-and-search.js [CHECKPOINT]
// CHECKPOINT: a path, a URL, or (default) the tiny random MultiGrain of the tests; any of ours
// (.safetensors) or the original release's .pth works.
import { readdirSync, readFileSync } from 'node:fs';
import {
  init, shutdown, openMultiGrain, extractEmbeddings, DataLoader, RetrievalIndex, NodeImageDecoder, cropImage,
  type Dataset, type RgbImage,
} from 'multigrain-webgpu';

const folder = 'kernels-test/fixtures/images';
const checkpoint = process.argv[2] ?? 'kernels-test/multigrain/fixtures/pth/mg_r18w2_white_legacy.pth';

await init();
const { model } = await openMultiGrain(checkpoint);         // a path, a URL, a Blob/File or bytes

// The photos, decoded (truncated.jpg is the tests' broken file).
const names = readdirSync(folder).filter((n) => /\.(jpg|png|webp)$/.test(n) && n !== 'truncated.jpg').sort();
const decoder = new NodeImageDecoder();
const photos: RgbImage[] = [];
for (const name of names) photos.push(await decoder.decode(new Uint8Array(readFileSync(`${folder}/${name}`)), { name }));

// Embeddings of any Dataset: the whole image, longest side 224 (the evaluation's rect mode).
const embed = async (images: RgbImage[]) => {
  const dataset: Dataset = { length: images.length, get: (i) => ({ image: images[i]!, label: -1 }) };
  const loader = new DataLoader({ dataset, transform: { kind: 'val', mode: 'rect', size: 224 } });
  try {
    return await extractEmbeddings(model, loader);          // l2-normalized rows
  } finally {
    await loader.close();
  }
};
const index = new RetrievalIndex(model.embeddingDim);
index.add(await embed(photos), names);

// The query: the middle 80% of one photo.
const target = names.indexOf('chelsea.jpg');
const { width, height } = photos[target]!;
const crop = cropImage(photos[target]!, { left: Math.round(width * 0.1), top: Math.round(height * 0.1), width: Math.round(width * 0.8), height: Math.round(height * 0.8) });
const [hits] = await index.search(await embed([crop]), names.length);
hits!.ids.forEach((id, r) => console.log(`${r + 1}. ${hits!.scores[r]!.toFixed(4)}  ${id}`));
console.log(JSON.stringify({ query: `crop of ${names[target]}`, ranking: hits!.ids, scores: Array.from(hits!.scores) }));
index.dispose();
await shutdown();
