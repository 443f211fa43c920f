/** The retrieval examples picture of `evaluate`: thumbnails (JPEG data URIs, via sharp) in an SVG. */
import { writeFileAtomic } from '../io/index.js';
import { resizeImageBilinear, type RetrievalDataset, type RgbImage } from '../data/index.js';
import { loadSharp } from '../data/decode-node.js';
import { retrievalExamplesSvg, exampleQueries, type RetrievalResult, type Thumbnail } from '../multigrain/index.js';

/**
 * A JPEG data-URI thumbnail `height` pixels high (the width follows the aspect ratio, at most
 * twice the height), for the SVG pictures of `evaluate` and `search`.
 */
export async function thumbnail(image: RgbImage, height = 96): Promise<Thumbnail> {
  const scale = Math.min(height / image.height, (2 * height) / image.width);
  const width = Math.max(1, Math.round(image.width * scale));
  const h = Math.max(1, Math.round(image.height * scale));
  const small = resizeImageBilinear(image, width, h);
  const sharp = await loadSharp();
  const jpeg = await sharp(Buffer.from(small.data), { raw: { width, height: h, channels: 3 } }).jpeg({ quality: 80 }).toBuffer();
  return { href: `data:image/jpeg;base64,${jpeg.toString('base64')}`, width, height: h };
}

/** Writes `count` example queries (spread over the AP order) with their best results to `file`. */
export async function writeRetrievalExamples(file: string, title: string, dataset: RetrievalDataset, result: RetrievalResult, count: number): Promise<void> {
  const cache = new Map<number, Promise<Thumbnail>>();
  const thumb = (index: number): Promise<Thumbnail> => {
    if (!cache.has(index)) cache.set(index, dataset.get(index).then((s) => thumbnail(s.image)));
    return cache.get(index)!;
  };
  const examples = [];
  for (const q of exampleQueries(result.ap, count)) {
    const positives = new Set(dataset.groundTruth[q]!.positives);
    const results = [];
    for (const pos of result.top[q] ?? []) results.push({ image: await thumb(dataset.database[pos]!), relevant: positives.has(pos) });
    examples.push({ query: await thumb(dataset.queries[q]!), caption: `query ${q}: AP ${result.ap[q]!.toFixed(3)}`, results });
  }
  await writeFileAtomic(file, retrievalExamplesSvg(title, examples) + '\n');
}
