/**
 * Embedding a whole image collection into a folder that numpy, faiss and our index read:
 *
 * - `embeddings.npy`: float32 [N, D], the l2-normalized (whitened, once whitened) embeddings;
 * - `paths.txt`: the image of each row, one path a line (UTF-8);
 * - `embed_args.json`: how they were made ({@link EmbedArgs}), so that queries can be embedded
 *   the same way and a rerun can tell whether it continues the same job;
 * - `skipped.txt` (only when images were skipped as unreadable) and, on request,
 *   `embeddings.safetensors` (one tensor `embeddings`).
 *
 * The work goes in chunks of consecutive images (`chunks/chunk_NNNNNN.npy` + `.json`, each
 * written atomically, the `.json` last, so a chunk exists whole or not at all). A rerun after
 * an interruption keeps the chunks already done; at the end they are merged (streamed, one
 * chunk in memory at a time) and removed. Within a chunk, rect-mode images are visited grouped
 * by output size, so forward passes hold full batches (see `sizeBucketOrder`).
 */
import { DataLoader, type ImageDataset, type ValidationMode } from '../../data/index.js';
import {
  decodeNpy, encodeNpyHeader, joinPath, nodeFileStore, readTextFile, writeSafetensors, makeHostTensor, type FileStore,
} from '../../io/index.js';
import type { MultiGrain } from '../model.js';
import { inputNormalization } from '../backbone.js';
import { extractEmbeddings } from './embeddings.js';

/** What `embed_args.json` records: how the embeddings were made, and of which images. */
export interface EmbedArgs {
  /** The checkpoint (file) the model was read from. */
  checkpoint: string;
  /** Longer side (rect) or crop side (square) the images were resized to. */
  inputSize: number;
  inputCrop: ValidationMode;
  /** GeM exponent p of the model. */
  poolingExponent: number;
  /** Columns of embeddings.npy. */
  embeddingDim: number;
  /** Whether the model folds in PCA whitening (the rows are then whitened, l2-normalized). */
  whitened: boolean;
  /** Number of images listed (rows plus skipped). */
  images: number;
  /**
   * 'f16' when the trunk ran in half precision (absent for f32, as in folders written before
   * the option existed): a resumed run must not mix precisions.
   */
  precision?: 'f16';
  /** FNV-1a hash of the image paths in order: a rerun over another list is not the same job. */
  pathsHash: string;
  /** Images per chunk (the chunk boundaries of a resumed run must not move). */
  chunkSize: number;
  /** Where the images came from (the command's flags), for the reader. */
  [extra: string]: unknown;
}

/** Options of {@link embedImages}. */
export interface EmbedOptions {
  /** The output folder (created if missing). */
  output: string;
  mode: ValidationMode;
  size: number;
  /** The checkpoint path recorded in embed_args.json. */
  checkpoint: string;
  /** More entries for embed_args.json (e.g. the data path); compared on resume like the rest. */
  extraArgs?: Record<string, unknown>;
  /** Images per forward pass (default 32). */
  batchSize?: number;
  /** Images per chunk (default 1024). */
  chunkSize?: number;
  /** Data loader worker threads (default 2). */
  workers?: number;
  /** Leave unreadable images out (listed in skipped.txt) instead of stopping. */
  skipUnreadable?: boolean;
  /** Called for each skipped image (default: the loader's warning). */
  onSkip?: (file: string, message: string) => void;
  /** Also write embeddings.safetensors (the whole matrix in memory once). */
  safetensors?: boolean;
  /** Group rect images by output size (default true); false visits them in list order. */
  bucketBySize?: boolean;
  /** Stop after computing this many chunks (an interrupted run; the next call resumes). */
  maxChunks?: number;
  files?: FileStore;
}

/** Progress of {@link embedImages}: images done (reused chunks included) of `total`. */
export interface EmbedProgress {
  done: number;
  total: number;
  /** Images embedded in this call (what a rate should count). */
  computed: number;
}

export interface EmbedResult {
  /** Whether the merged files are written (false after `maxChunks` stopped the run). */
  complete: boolean;
  /** Images listed. */
  images: number;
  /** Rows of embeddings.npy (images - skipped), when complete. */
  rows: number;
  dim: number;
  /** Paths left out as unreadable (this run's and the reused chunks'). */
  skipped: string[];
  /** Chunks embedded by this call, and chunks found done by an earlier one. */
  chunksComputed: number;
  chunksReused: number;
  /** Images embedded by this call, their forward passes and the seconds it took. */
  computedImages: number;
  batches: number;
  seconds: number;
}

/** The files of an embedding folder. */
export const EMBED_FILES = {
  embeddings: 'embeddings.npy',
  paths: 'paths.txt',
  args: 'embed_args.json',
  skipped: 'skipped.txt',
  safetensors: 'embeddings.safetensors',
  chunks: 'chunks',
} as const;

interface ChunkMeta {
  first: number;
  count: number;
  /** Paths of the rows, in row order. */
  paths: string[];
  skipped: string[];
}

const chunkName = (c: number): string => `chunk_${String(c).padStart(6, '0')}`;

/** FNV-1a (32-bit) of the paths joined by newlines, as 8 hex digits. */
export function pathsHash(paths: readonly string[]): string {
  let h = 0x811c9dc5;
  const bytes = new TextEncoder().encode(paths.join('\n'));
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}

/** The image path of each dataset item (`item <i>` for in-memory images). */
export function datasetPaths(dataset: ImageDataset): string[] {
  return Array.from({ length: dataset.length }, (_, i) => dataset.record(i).path ?? `item ${i}`);
}

/**
 * Embeds every image of `dataset` into `options.output` (see the module comment), resuming the
 * chunks an earlier run of the same job left there. Refuses, naming the differing settings, a
 * folder whose embed_args.json records another job.
 */
export async function embedImages(
  model: MultiGrain, dataset: ImageDataset, options: EmbedOptions, onProgress?: (p: EmbedProgress) => void,
): Promise<EmbedResult> {
  const files = options.files ?? nodeFileStore;
  const chunkSize = options.chunkSize ?? 1024;
  const batchSize = options.batchSize ?? 32;
  if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new Error(`embedImages: chunkSize must be an integer >= 1, got ${chunkSize}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`embedImages: batchSize must be an integer >= 1, got ${batchSize}`);
  const total = dataset.length;
  if (total === 0) throw new Error('embedImages: no images to embed');
  const paths = datasetPaths(dataset);
  const dim = model.embeddingDim;
  const args: EmbedArgs = {
    checkpoint: options.checkpoint,
    inputSize: options.size,
    inputCrop: options.mode,
    poolingExponent: Number((await model.pool.p.toArray())[0]!.toPrecision(7)),
    embeddingDim: dim,
    whitened: model.whitening !== null,
    images: total,
    ...(model.precision === 'f16' ? { precision: 'f16' as const } : {}),
    pathsHash: pathsHash(paths),
    chunkSize,
    ...options.extraArgs,
  };
  const out = options.output;
  const chunkDir = joinPath(out, EMBED_FILES.chunks);
  await files.mkdir(chunkDir);
  await checkArgs(files, joinPath(out, EMBED_FILES.args), args);

  const chunks = Math.ceil(total / chunkSize);
  const done = new Map<number, ChunkMeta>();
  const finished = (await files.stat(joinPath(out, EMBED_FILES.embeddings))) !== null && (await files.stat(joinPath(out, EMBED_FILES.paths))) !== null;
  if (!finished) {
    for (let c = 0; c < chunks; c++) {
      const meta = await readChunk(files, chunkDir, c, chunkSize, total, dim);
      if (meta) done.set(c, meta);
    }
  }
  const result: EmbedResult = {
    complete: false, images: total, rows: 0, dim, skipped: [], chunksComputed: 0, chunksReused: finished ? chunks : done.size,
    computedImages: 0, batches: 0, seconds: 0,
  };
  const started = Date.now();
  let doneImages = [...done.values()].reduce((s, m) => s + m.count, 0);
  if (!finished) {
    const loader = new DataLoader({
      dataset, transform: { kind: 'val', mode: options.mode, size: options.size, ...inputNormalization(model.options.backbone) }, workers: options.workers ?? 2,
      skipUnreadable: options.skipUnreadable ?? false, ...(options.onSkip ? { onSkip: options.onSkip } : {}),
    });
    try {
      onProgress?.({ done: doneImages, total, computed: 0 });
      for (let c = 0; c < chunks; c++) {
        if (done.has(c)) continue;
        if (options.maxChunks !== undefined && result.chunksComputed >= options.maxChunks) break;
        const first = c * chunkSize;
        const count = Math.min(chunkSize, total - first);
        const before = doneImages;
        const e = await extractEmbeddings(model, loader, {
          indices: Int32Array.from({ length: count }, (_, k) => first + k),
          kind: 'normalized', batchSize, bucketBySize: options.bucketBySize ?? true,
          onProgress: (n) => onProgress?.({ done: before + n, total, computed: result.computedImages + n }),
        });
        const missing = new Set(e.skipped ?? []);
        const keep = Array.from({ length: count }, (_, k) => k).filter((k) => !missing.has(k));
        const rows = new Float32Array(keep.length * dim);
        keep.forEach((k, r) => rows.set(e.data.subarray(k * dim, (k + 1) * dim), r * dim));
        const meta: ChunkMeta = { first, count, paths: keep.map((k) => paths[first + k]!), skipped: [...missing].map((k) => paths[first + k]!) };
        // the rows first, then the list that marks the chunk done
        await files.writeFileAtomic(joinPath(chunkDir, `${chunkName(c)}.npy`), npyParts(rows, keep.length, dim));
        await files.writeFileAtomic(joinPath(chunkDir, `${chunkName(c)}.json`), JSON.stringify(meta) + '\n');
        done.set(c, meta);
        doneImages += count;
        result.chunksComputed++;
        result.computedImages += count - missing.size;
        result.batches += e.batches ?? 0;
        onProgress?.({ done: doneImages, total, computed: result.computedImages });
      }
    } finally {
      await loader.close();
    }
  }
  result.seconds = (Date.now() - started) / 1000;
  if (finished) {
    result.complete = true;
    const listed = (await readTextFile(files, joinPath(out, EMBED_FILES.paths))) ?? '';
    result.rows = listed === '' ? 0 : listed.replace(/\n$/, '').split('\n').length;
    const skippedText = (await readTextFile(files, joinPath(out, EMBED_FILES.skipped))) ?? '';
    result.skipped = skippedText === '' ? [] : skippedText.replace(/\n$/, '').split('\n');
  } else {
    const metas = Array.from({ length: chunks }, (_, c) => done.get(c));
    result.skipped = metas.flatMap((m) => m?.skipped ?? []);
    if (metas.every((m) => m !== undefined)) {
      result.rows = await merge(files, out, chunkDir, metas as ChunkMeta[], dim, options.safetensors ?? false);
      result.complete = true;
    }
  }
  if (result.complete) await removeChunks(files, chunkDir);
  return result;
}

/** Writes embed_args.json, or refuses when the one there records another job. */
async function checkArgs(files: FileStore, file: string, args: EmbedArgs): Promise<void> {
  const text = await readTextFile(files, file);
  if (text === null) {
    await files.writeFileAtomic(file, JSON.stringify(args, null, 2) + '\n');
    return;
  }
  let recorded: Record<string, unknown>;
  try {
    recorded = JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`${file}: not valid JSON (${(err as Error).message}); remove the folder or choose another --output`);
  }
  const keys = [...new Set([...Object.keys(recorded), ...Object.keys(args)])];
  const differences = keys
    .filter((k) => JSON.stringify(recorded[k]) !== JSON.stringify(args[k]))
    .map((k) => `${k}: ${JSON.stringify(recorded[k])} there, ${JSON.stringify(args[k])} now`);
  if (differences.length) {
    throw new Error(`${file} records another embedding job (${differences.join('; ')}); rerun with the same settings to resume, or choose another --output`);
  }
}

/** A chunk an earlier run finished (its list parses and its rows file has the right size), else null. */
async function readChunk(files: FileStore, dir: string, c: number, chunkSize: number, total: number, dim: number): Promise<ChunkMeta | null> {
  const text = await readTextFile(files, joinPath(dir, `${chunkName(c)}.json`));
  if (text === null) return null;
  let meta: ChunkMeta;
  try {
    meta = JSON.parse(text) as ChunkMeta;
  } catch {
    return null;
  }
  const count = Math.min(chunkSize, total - c * chunkSize);
  if (meta.first !== c * chunkSize || meta.count !== count || !Array.isArray(meta.paths) || !Array.isArray(meta.skipped)) return null;
  if (meta.paths.length + meta.skipped.length !== count) return null;
  const stat = await files.stat(joinPath(dir, `${chunkName(c)}.npy`));
  const bytes = encodeNpyHeader('float32', [meta.paths.length, dim]).length + meta.paths.length * dim * 4;
  return stat?.size === bytes ? meta : null;
}

function npyParts(rows: Float32Array, n: number, dim: number): Uint8Array[] {
  return [encodeNpyHeader('float32', [n, dim]), new Uint8Array(rows.buffer, rows.byteOffset, rows.byteLength)];
}

/** Merges the chunks into the final files (embeddings.npy last: its presence means done); returns the rows. */
async function merge(files: FileStore, out: string, dir: string, metas: ChunkMeta[], dim: number, safetensors: boolean): Promise<number> {
  const rows = metas.reduce((s, m) => s + m.paths.length, 0);
  const skipped = metas.flatMap((m) => m.skipped);
  const readChunkRows = async (c: number): Promise<Float32Array> => {
    const file = joinPath(dir, `${chunkName(c)}.npy`);
    const a = decodeNpy(await files.readFile(file), file);
    if (a.dtype !== 'float32' || a.shape[0] !== metas[c]!.paths.length || a.shape[1] !== dim) {
      throw new Error(`${file}: expected float32 [${metas[c]!.paths.length}, ${dim}], found ${a.dtype} [${a.shape.join(', ')}]`);
    }
    return a.data as Float32Array;
  };
  async function* body(): AsyncGenerator<Uint8Array> {
    yield encodeNpyHeader('float32', [rows, dim]);
    for (let c = 0; c < metas.length; c++) {
      const data = await readChunkRows(c);
      yield new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    }
  }
  const lines = (list: string[]): string => list.map((p) => `${p}\n`).join('');
  await files.writeFileAtomic(joinPath(out, EMBED_FILES.paths), lines(metas.flatMap((m) => m.paths)));
  if (skipped.length) await files.writeFileAtomic(joinPath(out, EMBED_FILES.skipped), lines(skipped));
  else await files.remove(joinPath(out, EMBED_FILES.skipped));
  if (safetensors) {
    // safetensors needs the whole matrix in memory; the .npy below streams chunk by chunk
    const all = new Float32Array(rows * dim);
    for (let c = 0, at = 0; c < metas.length; c++) {
      const data = await readChunkRows(c);
      all.set(data, at);
      at += data.length;
    }
    await files.writeFileAtomic(joinPath(out, EMBED_FILES.safetensors), writeSafetensors([['embeddings', makeHostTensor('f32', [rows, dim], all)]]));
  }
  await files.writeFileAtomic(joinPath(out, EMBED_FILES.embeddings), body());
  return rows;
}

async function removeChunks(files: FileStore, dir: string): Promise<void> {
  if ((await files.stat(dir)) === null) return;
  for (const name of await files.list(dir)) if (/^chunk_\d+\.(npy|json)$/.test(name)) await files.remove(joinPath(dir, name));
}
