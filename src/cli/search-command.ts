/**
 * `multigrain search --index I --image Q.jpg [-k 10] [--output DIR]`: embeds the query with the
 * model and preprocessing the index records (its embed_args.json), searches the index (exactly
 * on the GPU, or approximately when it is an HNSW index: the file says which), prints the ranked paths with their cosine similarities, and with --output writes
 * a contact sheet of the query and its neighbours: search.html (the images themselves) and
 * search.svg (self-contained thumbnails).
 */
import { basename, dirname, join, relative, resolve } from 'node:path';
import { parseOptions, optionsHelp } from './args.js';
import { openSource, checkImageSize } from './source.js';
import { thumbnail } from './retrieval-examples.js';
import { writeFileAtomic, nodeFileStore } from '../io/index.js';
import { init, KNN_MAX_K } from '../engine/index.js';
import { DataLoader, ImageListDataset, NodeImageDecoder, type ValidationMode } from '../data/index.js';
import { openRetrievalIndex, extractEmbeddings, type AnyRetrievalIndex, retrievalExamplesSvg, type SearchHits, type Thumbnail, inputNormalization } from '../multigrain/index.js';
import type { EmbedSettings } from './index-command.js';
import type { OptionTable, OptionValues } from '../util/options.js';

export const SEARCH_OPTIONS = {
  index: { flag: 'index', type: 'string', help: 'index file (multigrain index build)' },
  image: { flag: 'image', type: 'string', help: 'query image' },
  k: { flag: 'k', type: 'int', help: `number of results (also -k), at most ${KNN_MAX_K}`, default: 10, min: 1, max: KNN_MAX_K },
  efSearch: { flag: 'ef-search', type: 'int', help: 'HNSW index: candidates while searching (default: what the index stores)', min: 1 },
  output: { flag: 'output', type: 'string', help: 'folder for the contact sheet (search.html, search.svg)' },
  workers: { flag: 'workers', type: 'int', help: 'data loader worker threads', default: 0, min: 0 },
} as const satisfies OptionTable;

type SearchFlags = OptionValues<typeof SEARCH_OPTIONS>;

export async function searchCommand(argv: string[]): Promise<void> {
  // -k N, as in the issue and faiss's tools, is --k N
  const f = parseOptions(argv.map((a) => (a === '-k' ? '--k' : a)), SEARCH_OPTIONS) as SearchFlags | null;
  if (!f) {
    console.log(optionsHelp('search', 'Searches an index with the embedding of one image; prints the ranked paths and scores.', SEARCH_OPTIONS));
    return;
  }
  if (f.index === undefined) throw new Error('--index <index file> is required');
  if (f.image === undefined) throw new Error('--image <query image> is required');
  if (!(await nodeFileStore.stat(f.image))) throw new Error(`--image ${f.image}: no such file`);
  await init();
  const index = await openRetrievalIndex(f.index, undefined, f.efSearch === undefined ? {} : { efSearch: f.efSearch });
  if (f.efSearch !== undefined && index.kind !== 'hnsw') throw new Error(`--ef-search: ${f.index} is an exact index (it has no HNSW graph)`);
  const query = await embedQuery(index, f.image, f.index, f.workers);
  const [hits] = await index.search(query, f.k);
  index.dispose();
  console.log(`query ${f.image}: ${hits!.ids.length} of ${index.size} images (${index.kind === 'hnsw' ? `approximate, HNSW efSearch ${index.efSearch}` : 'exact'})`);
  hits!.ids.forEach((id, r) => console.log(`${String(r + 1).padStart(4)}  ${hits!.scores[r]!.toFixed(4)}  ${id}`));
  if (f.output !== undefined) {
    await nodeFileStore.mkdir(f.output);
    await writeContactSheet(f.output, f.image, hits!);
    console.log(`wrote ${join(f.output, 'search.html')} and ${join(f.output, 'search.svg')}`);
  }
}

/** The query's embedding, made as the index's embeddings were (checkpoint, size, crop, p). */
async function embedQuery(index: AnyRetrievalIndex, image: string, indexFile: string, workers: number): Promise<Float32Array> {
  const s = index.settings as EmbedSettings;
  if (typeof s.checkpoint !== 'string') throw new Error(`--index ${indexFile}: records no checkpoint to embed the query with`);
  if (!(await nodeFileStore.stat(s.checkpoint))) throw new Error(`--index ${indexFile}: its checkpoint ${s.checkpoint} is missing`);
  const { model } = await openSource(s.checkpoint, -1);
  if (typeof s.poolingExponent === 'number') model.pool.p.assign(Float32Array.of(s.poolingExponent));
  if (model.embeddingDim !== index.dim) throw new Error(`--index ${indexFile}: ${index.dim}-d vectors, but its checkpoint ${s.checkpoint} embeds in ${model.embeddingDim}-d`);
  const size = typeof s.inputSize === 'number' ? s.inputSize : 500;
  const mode: ValidationMode = s.inputCrop === 'square' || s.valMode === 'square' ? 'square' : 'rect';
  checkImageSize(model, size, mode);
  const path = resolve(image);
  const loader = new DataLoader({ dataset: ImageListDataset.fromNames(dirname(path), [basename(path)]), transform: { kind: 'val', mode, size, ...inputNormalization(model.options.backbone) }, workers });
  try {
    return (await extractEmbeddings(model, loader, { batchSize: 1 })).data;
  } finally {
    await loader.close();
  }
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Thumbnail height in the SVG. */
const HEIGHT = 128;

/** search.html (links to the images, relative to the folder) and search.svg (embedded thumbnails). */
async function writeContactSheet(dir: string, query: string, hits: SearchHits): Promise<void> {
  const href = (p: string): string => encodeURI(relative(resolve(dir), resolve(String(p))).split('\\').join('/'));
  const cell = (src: string, caption: string, color: string): string =>
    `<figure style="display:inline-block;margin:6px;text-align:center"><img src="${escapeHtml(src)}" style="height:160px;border:4px solid ${color}"><figcaption>${caption}</figcaption></figure>`;
  const html = [
    '<!DOCTYPE html>', '<meta charset="utf-8">', `<title>search: ${escapeHtml(query)}</title>`,
    '<body style="font-family:sans-serif">', `<h3>query ${escapeHtml(query)}</h3>`,
    cell(href(query), 'query', '#1f77b4'),
    ...hits.ids.map((id, r) => cell(href(String(id)), `${r + 1}. ${hits.scores[r]!.toFixed(4)}<br><small>${escapeHtml(String(id))}</small>`, '#2ca02c')),
    '</body>',
  ].join('\n');
  await writeFileAtomic(join(dir, 'search.html'), html + '\n');
  const decoder = new NodeImageDecoder();
  const thumb = async (p: string): Promise<Thumbnail> => thumbnail(await decoder.decode(resolve(p)), HEIGHT);
  const results = [];
  for (const id of hits.ids) results.push({ image: await thumb(String(id)), relevant: true });
  const caption = `query ${query}: ${hits.ids.map((_, r) => hits.scores[r]!.toFixed(3)).join(', ')}`;
  await writeFileAtomic(join(dir, 'search.svg'), retrievalExamplesSvg(`search: ${basename(query)}`, [{ query: await thumb(query), caption, results }]) + '\n');
}
