/**
 * A persistent image-search index: L2-normalized embeddings with an id each (a path, a number),
 * searched exactly on the GPU by inner product (= cosine similarity), and saved as one
 * safetensors file (format: src/io/FORMAT.md, "Retrieval index").
 *
 * Memory: the vectors live on the host; the GPU gets them in chunks of `chunkRows` rows (each
 * well under WebGPU's 128 MiB binding limit). Chunks stay resident on the GPU between searches
 * up to `gpuBudgetBytes` (default 1 GiB); the rest are uploaded for each search and released
 * right after, so a database of any size streams through in bounded GPU memory.
 */
import { tensor, knnSearch, KNN_MAX_K, type Tensor, type DatabaseChunk } from '../../engine/index.js';
import { readSafetensors, writeSafetensors, nodeFileStore, type FileStore, type SafetensorsContents } from '../../io/index.js';
import type { Embeddings } from './embeddings.js';

/** What an index entry is known by: an image path, a number. */
export type IndexId = string | number;

/** One query's results, best first (fewer than k when the index holds fewer entries). */
export interface SearchHits {
  ids: IndexId[];
  /** Cosine similarities (inner products of the normalized vectors). */
  scores: Float32Array;
  /** The entries' rows in the index. */
  rows: Int32Array;
}

export interface RetrievalIndexOptions {
  /** Rows per GPU chunk (default: 16 M floats / dim, at most 65536: 8192 rows of 2048-d, 64 MiB). */
  chunkRows?: number;
  /** GPU memory that chunks may keep between searches (default 1 GiB; 0: stream every search). */
  gpuBudgetBytes?: number;
  /** Free-form JSON settings saved with the index (`multigrain index` records how to embed queries). */
  settings?: Record<string, unknown>;
}

/** The format tag in the file's `__metadata__`. */
export const RETRIEVAL_INDEX_FORMAT = 'multigrain-retrieval-index';
export const RETRIEVAL_INDEX_VERSION = '1';
const VERSION = RETRIEVAL_INDEX_VERSION;
/** Floats per score block and per database chunk (64 MiB). */
const BLOCK_FLOATS = 16 * 2 ** 20;

export class RetrievalIndex {
  /** Exact search (the other kind is HnswIndex, approximate). */
  readonly kind = 'exact' as const;
  readonly dim: number;
  settings: Record<string, unknown>;
  private data: Float32Array;
  private count = 0;
  private readonly idList: IndexId[] = [];
  private readonly chunkRows: number;
  private readonly gpuBudget: number;
  /** Resident GPU chunks, by chunk number. */
  private readonly resident = new Map<number, Tensor>();

  constructor(dim: number, options: RetrievalIndexOptions = {}) {
    if (!Number.isInteger(dim) || dim < 1) throw new Error(`RetrievalIndex: dimension must be a positive integer, got ${dim}`);
    this.dim = dim;
    this.settings = options.settings ?? {};
    this.chunkRows = options.chunkRows ?? Math.max(1, Math.min(65536, Math.floor(BLOCK_FLOATS / dim)));
    if (!Number.isInteger(this.chunkRows) || this.chunkRows < 1) throw new Error(`RetrievalIndex: chunkRows must be a positive integer, got ${options.chunkRows}`);
    this.gpuBudget = options.gpuBudgetBytes ?? 2 ** 30;
    this.data = new Float32Array(0);
  }

  /** Number of entries. */
  get size(): number {
    return this.count;
  }

  /** The ids, in row order. */
  get ids(): readonly IndexId[] {
    return this.idList;
  }

  /** The (normalized) vector of a row: a view, valid until the next `add`. */
  vector(row: number): Float32Array {
    if (!(row >= 0 && row < this.count)) throw new Error(`RetrievalIndex: row ${row} is out of range (${this.count} entries)`);
    return this.data.subarray(row * this.dim, (row + 1) * this.dim);
  }

  /**
   * Adds `ids.length` vectors (row-major, `dim` values each), L2-normalized on the way in (so
   * that scores are cosine similarities). Non-finite values and zero vectors are refused.
   */
  add(vectors: Float32Array | Embeddings, ids: readonly IndexId[]): void {
    const flat = this.checkedRows(vectors, 'add');
    const n = flat.length / this.dim;
    if (ids.length !== n) throw new Error(`RetrievalIndex.add: ${n} vectors but ${ids.length} ids`);
    ids.forEach((id, i) => {
      if (typeof id !== 'string' && !(typeof id === 'number' && Number.isFinite(id))) throw new Error(`RetrievalIndex.add: id ${i} is ${JSON.stringify(id)}, not a string or a finite number`);
    });
    if (this.count + n > this.data.length / this.dim) {
      const grown = new Float32Array(Math.max(this.count + n, 2 * this.count) * this.dim);
      grown.set(this.data.subarray(0, this.count * this.dim));
      this.data = grown;
    }
    const normalized = normalizeRows(flat, this.dim, (row) => `RetrievalIndex.add: vector ${row}`);
    this.data.set(normalized, this.count * this.dim);
    // The chunk that held the old end changes; the ones before it stay valid.
    const firstChanged = Math.floor(this.count / this.chunkRows);
    for (const [c, t] of this.resident) if (c >= firstChanged) {
      t.dispose();
      this.resident.delete(c);
    }
    this.count += n;
    this.idList.push(...ids);
  }

  /**
   * The k entries most similar to each query (row-major, `dim` values each, normalized here),
   * best first, ties broken by the earlier entry. k from 1 to KNN_MAX_K (1024); with fewer
   * entries, each query gets them all.
   */
  async search(queries: Float32Array | Embeddings, k: number): Promise<SearchHits[]> {
    if (!Number.isInteger(k) || k < 1) throw new Error(`RetrievalIndex.search: k must be a positive integer, got ${k}`);
    if (k > KNN_MAX_K) throw new Error(`RetrievalIndex.search: k = ${k} is above the exact search's limit of ${KNN_MAX_K}`);
    if (this.count === 0) throw new Error('RetrievalIndex.search: the index is empty (add vectors first)');
    const flat = normalizeRows(this.checkedRows(queries, 'search'), this.dim, (row) => `RetrievalIndex.search: query ${row}`);
    const nq = flat.length / this.dim;
    const kk = Math.min(k, this.count);
    const block = Math.max(1, Math.floor(BLOCK_FLOATS / Math.min(this.chunkRows, this.count)));
    const out: SearchHits[] = [];
    for (let q0 = 0; q0 < nq; q0 += block) {
      const q1 = Math.min(nq, q0 + block);
      const qt = tensor(flat.subarray(q0 * this.dim, q1 * this.dim), [q1 - q0, this.dim]);
      let result;
      try {
        result = knnSearch(qt, this.chunks(), kk);
      } finally {
        qt.dispose();
      }
      const [scores, rows] = await Promise.all([result.scores.toArray(), result.ids.toArray()]).finally(() => {
        result.scores.dispose();
        result.ids.dispose();
      });
      for (let q = 0; q < q1 - q0; q++) {
        const r = Int32Array.from(rows.subarray(q * kk, (q + 1) * kk));
        out.push({ rows: r, scores: Float32Array.from(scores.subarray(q * kk, (q + 1) * kk)), ids: Array.from(r, (i) => this.idList[i]!) });
      }
    }
    return out;
  }

  /** Releases the GPU chunks kept between searches (the index stays usable). */
  dispose(): void {
    for (const t of this.resident.values()) t.dispose();
    this.resident.clear();
  }

  /** The index as safetensors bytes (see src/io/FORMAT.md). */
  toBytes(): Uint8Array {
    const ids = new TextEncoder().encode(JSON.stringify(this.idList));
    return writeSafetensors([
      ['vectors', { dtype: 'f32', shape: [this.count, this.dim], data: this.data.subarray(0, this.count * this.dim) }],
      ['ids', { dtype: 'u8', shape: [ids.length], data: ids }],
    ], {
      format: RETRIEVAL_INDEX_FORMAT, version: VERSION, kind: 'exact', metric: 'ip', normalized: 'l2', dim: String(this.dim), count: String(this.count),
      settings: JSON.stringify(this.settings),
    });
  }

  /** Reads an index from `toBytes` output (or an HNSW index file: its vectors, searched exactly); `what` names the source in errors. */
  static fromBytes(bytes: Uint8Array, what = 'retrieval index', options: Omit<RetrievalIndexOptions, 'settings'> = {}): RetrievalIndex {
    const file = readIndexFile(bytes, what);
    const index = new RetrievalIndex(file.dim, { ...options, settings: file.settings });
    index.data = file.vectors;
    index.count = file.count;
    index.idList.push(...file.ids);
    return index;
  }

  /** Writes the index to `path` (atomically). */
  async save(path: string, files: FileStore = nodeFileStore): Promise<void> {
    await files.writeFileAtomic(path, this.toBytes());
  }

  /** Reads an index written by `save`. */
  static async load(path: string, files: FileStore = nodeFileStore, options: Omit<RetrievalIndexOptions, 'settings'> = {}): Promise<RetrievalIndex> {
    if (!(await files.stat(path))) throw new Error(`${path}: no such index file`);
    return RetrievalIndex.fromBytes(await files.readFile(path), path, options);
  }

  /** The database as GPU chunks: resident ones reused, others uploaded and kept while the budget allows. */
  private *chunks(): Generator<DatabaseChunk> {
    let kept = [...this.resident.values()].reduce((s, t) => s + t.shape[0]! * this.dim * 4, 0);
    for (let c = 0; c * this.chunkRows < this.count; c++) {
      const have = this.resident.get(c);
      if (have) {
        yield have;
        continue;
      }
      const start = c * this.chunkRows;
      const rows = Math.min(this.chunkRows, this.count - start);
      const upload = (): Tensor => tensor(this.data.subarray(start * this.dim, (start + rows) * this.dim), [rows, this.dim]);
      const bytes = rows * this.dim * 4;
      if (kept + bytes <= this.gpuBudget) {
        const t = upload();
        this.resident.set(c, t);
        kept += bytes;
        yield t;
      } else {
        yield upload; // knnSearch disposes it after use
      }
    }
  }

  private checkedRows(v: Float32Array | Embeddings, op: string): Float32Array {
    return checkedRows(v, this.dim, `RetrievalIndex.${op}`);
  }
}

/** The values of whole `dim`-d rows; another dimension is an error naming both. */
export function checkedRows(v: Float32Array | Embeddings, dim: number, what: string): Float32Array {
  if (v instanceof Float32Array) {
    if (v.length === 0 || v.length % dim !== 0) throw new Error(`${what}: ${v.length} values are not whole ${dim}-d vectors (the index dimension is ${dim})`);
    return v;
  }
  if (v.dim !== dim) throw new Error(`${what}: ${v.dim}-d vectors, but the index dimension is ${dim}`);
  if (v.rows < 1 || v.data.length !== v.rows * v.dim) throw new Error(`${what}: ${v.rows} x ${v.dim} vectors with ${v.data.length} values`);
  return v.data;
}

/** What every index file holds (see src/io/FORMAT.md), checked. */
export interface IndexFileContents {
  /** 'exact' (also for files without a kind, as written before the HNSW index) or 'hnsw'. */
  kind: 'exact' | 'hnsw';
  dim: number;
  count: number;
  /** [count, dim], L2-normalized. */
  vectors: Float32Array;
  ids: IndexId[];
  settings: Record<string, unknown>;
  metadata: Record<string, string>;
  file: SafetensorsContents;
}

/** Reads and checks an index file's common part; `what` names the source in errors. */
export function readIndexFile(bytes: Uint8Array, what = 'retrieval index'): IndexFileContents {
  let file;
  try {
    file = readSafetensors(bytes);
  } catch (err) {
    throw new Error(`${what}: not a retrieval index (${(err as Error).message})`);
  }
  const meta = file.metadata;
  if (meta.format !== RETRIEVAL_INDEX_FORMAT) throw new Error(`${what}: not a retrieval index (metadata format ${JSON.stringify(meta.format)}, expected '${RETRIEVAL_INDEX_FORMAT}')`);
  if (meta.version !== VERSION) throw new Error(`${what}: index format version ${meta.version} is not supported (this build reads ${VERSION})`);
  const kind = meta.kind ?? 'exact';
  if (kind !== 'exact' && kind !== 'hnsw') throw new Error(`${what}: index kind ${JSON.stringify(kind)} is not known (exact or hnsw)`);
  const vectors = file.tensors.get('vectors');
  const idBytes = file.tensors.get('ids');
  if (!vectors || vectors.dtype !== 'f32' || vectors.shape.length !== 2) throw new Error(`${what}: no f32 [N, D] tensor 'vectors'`);
  if (!idBytes || idBytes.dtype !== 'u8') throw new Error(`${what}: no u8 tensor 'ids'`);
  const [count, dim] = vectors.shape as [number, number];
  if (String(dim) !== meta.dim || String(count) !== meta.count) throw new Error(`${what}: 'vectors' is [${count}, ${dim}] but the metadata says ${meta.count} x ${meta.dim}`);
  let ids: unknown;
  let settings: unknown;
  try {
    ids = JSON.parse(new TextDecoder().decode(idBytes.data as Uint8Array));
    settings = JSON.parse(meta.settings ?? '{}');
  } catch (err) {
    throw new Error(`${what}: ids or settings are not valid JSON (${(err as Error).message})`);
  }
  if (!Array.isArray(ids) || ids.length !== count) throw new Error(`${what}: ${Array.isArray(ids) ? ids.length : 'no'} ids for ${count} vectors`);
  return { kind, dim, count, vectors: vectors.data as Float32Array, ids: ids as IndexId[], settings: settings as Record<string, unknown>, metadata: meta, file };
}

/** Copies rows scaled to unit length; a non-finite value or a zero row is an error naming it. */
export function normalizeRows(flat: Float32Array, dim: number, name: (row: number) => string): Float32Array {
  const out = new Float32Array(flat.length);
  for (let r = 0; r < flat.length / dim; r++) {
    let ss = 0;
    for (let i = r * dim; i < (r + 1) * dim; i++) {
      const v = flat[i]!;
      if (!Number.isFinite(v)) throw new Error(`${name(r)} has a non-finite value (${v}) at ${i - r * dim}`);
      ss += v * v;
    }
    if (ss === 0) throw new Error(`${name(r)} is all zeros (no direction to compare)`);
    const inv = 1 / Math.sqrt(ss);
    for (let i = r * dim; i < (r + 1) * dim; i++) out[i] = flat[i]! * inv;
  }
  return out;
}
