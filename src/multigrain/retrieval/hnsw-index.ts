/**
 * The approximate retrieval index: an HNSW graph (hnswlib, through the npm package
 * hnswlib-node, a native addon) behind the same operations as the exact `RetrievalIndex`
 * (add / search / save / load). Vectors are L2-normalized and the graph's metric is the inner
 * product, so scores are cosine similarities, as in the exact index.
 *
 * Why: exact search reads every vector for every query; past what the GPU holds (or when many
 * queries must be answered fast on a CPU), a graph visits a few thousand entries per query and
 * finds ~all of the true top 10 (recall@10 against exact search is measured by bench/knn.js
 * and kernels-test/multigrain/hnsw-index.test.ts).
 *
 * Node only: hnswlib-node is loaded lazily (src/io/hnsw.ts); in a page `HnswIndex.create`
 * rejects with an error saying so. File: the exact index's safetensors file plus the graph as
 * a u8 tensor (src/io/FORMAT.md, "Retrieval index").
 */
import { hnswGraphFromBytes, hnswGraphToBytes, loadHnswlib, nodeFileStore, writeSafetensors, type FileStore, type HnswGraph } from '../../io/index.js';
import type { Embeddings } from './embeddings.js';
import {
  RetrievalIndex, RETRIEVAL_INDEX_FORMAT, RETRIEVAL_INDEX_VERSION, checkedRows, normalizeRows, readIndexFile,
  type IndexId, type RetrievalIndexOptions, type SearchHits,
} from './retrieval-index.js';

/** HNSW parameters; the defaults give recall@10 >= 0.95 on random 64-d data (see the test). */
export interface HnswParameters {
  /** Links per node (hnswlib's M): more = better recall, more memory (default 16). */
  m: number;
  /** Candidate list while building (default 200). */
  efConstruction: number;
  /** Candidate list while searching, raised to k when smaller (default 100): the recall/speed knob. */
  efSearch: number;
}

export const HNSW_DEFAULTS: Readonly<HnswParameters> = { m: 16, efConstruction: 200, efSearch: 100 };

export interface HnswIndexOptions extends Partial<HnswParameters> {
  /** Seed of hnswlib's level generator (default 100): the same adds build the same graph. */
  seed?: number;
  /** Free-form JSON settings saved with the index (as RetrievalIndexOptions.settings). */
  settings?: Record<string, unknown>;
}

/** Rows the graph first makes room for; it doubles as needed. */
const INITIAL_CAPACITY = 1024;

function checkParameter(name: string, v: number, min: number): number {
  if (!Number.isInteger(v) || v < min) throw new Error(`HnswIndex: ${name} must be an integer >= ${min}, got ${v}`);
  return v;
}

export class HnswIndex {
  /** Approximate search (the other kind is RetrievalIndex, exact). */
  readonly kind = 'hnsw' as const;
  readonly dim: number;
  readonly m: number;
  readonly efConstruction: number;
  /** May be changed between searches. */
  efSearch: number;
  settings: Record<string, unknown>;
  private readonly seed: number;
  private graph: HnswGraph;
  private data: Float32Array;
  private count = 0;
  private readonly idList: IndexId[] = [];

  private constructor(graph: HnswGraph, dim: number, p: HnswParameters, seed: number, settings: Record<string, unknown>) {
    this.graph = graph;
    this.dim = dim;
    this.m = p.m;
    this.efConstruction = p.efConstruction;
    this.efSearch = p.efSearch;
    this.seed = seed;
    this.settings = settings;
    this.data = new Float32Array(0);
  }

  /** An empty index of `dim`-d vectors (async: hnswlib-node is loaded on first use). */
  static async create(dim: number, options: HnswIndexOptions = {}): Promise<HnswIndex> {
    if (!Number.isInteger(dim) || dim < 1) throw new Error(`HnswIndex: dimension must be a positive integer, got ${dim}`);
    const p: HnswParameters = {
      m: checkParameter('m', options.m ?? HNSW_DEFAULTS.m, 2),
      efConstruction: checkParameter('efConstruction', options.efConstruction ?? HNSW_DEFAULTS.efConstruction, 1),
      efSearch: checkParameter('efSearch', options.efSearch ?? HNSW_DEFAULTS.efSearch, 1),
    };
    const seed = checkParameter('seed', options.seed ?? 100, 0);
    const lib = await loadHnswlib();
    const graph = new lib.HierarchicalNSW('ip', dim);
    graph.initIndex({ maxElements: INITIAL_CAPACITY, m: p.m, efConstruction: p.efConstruction, randomSeed: seed });
    return new HnswIndex(graph, dim, p, seed, options.settings ?? {});
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
    if (!(row >= 0 && row < this.count)) throw new Error(`HnswIndex: row ${row} is out of range (${this.count} entries)`);
    return this.data.subarray(row * this.dim, (row + 1) * this.dim);
  }

  /** Adds vectors (normalized on the way in) with their ids, as RetrievalIndex.add; each becomes a graph node. */
  add(vectors: Float32Array | Embeddings, ids: readonly IndexId[]): void {
    const flat = checkedRows(vectors, this.dim, 'HnswIndex.add');
    const n = flat.length / this.dim;
    if (ids.length !== n) throw new Error(`HnswIndex.add: ${n} vectors but ${ids.length} ids`);
    ids.forEach((id, i) => {
      if (typeof id !== 'string' && !(typeof id === 'number' && Number.isFinite(id))) throw new Error(`HnswIndex.add: id ${i} is ${JSON.stringify(id)}, not a string or a finite number`);
    });
    const normalized = normalizeRows(flat, this.dim, (row) => `HnswIndex.add: vector ${row}`);
    this.append(normalized, n);
    this.idList.push(...ids);
  }

  /**
   * The (approximately) k most similar entries to each query, best first, as
   * RetrievalIndex.search. Scores are recomputed from the stored vectors, so a found entry has
   * exactly the score exact search gives it; ties go to the earlier entry.
   */
  async search(queries: Float32Array | Embeddings, k: number): Promise<SearchHits[]> {
    if (!Number.isInteger(k) || k < 1) throw new Error(`HnswIndex.search: k must be a positive integer, got ${k}`);
    if (this.count === 0) throw new Error('HnswIndex.search: the index is empty (add vectors first)');
    const flat = normalizeRows(checkedRows(queries, this.dim, 'HnswIndex.search'), this.dim, (row) => `HnswIndex.search: query ${row}`);
    const d = this.dim;
    const kk = Math.min(k, this.count);
    this.graph.setEf(Math.max(this.efSearch, kk));
    const out: SearchHits[] = [];
    for (let q = 0; q < flat.length / d; q++) {
      const query = flat.subarray(q * d, (q + 1) * d);
      const { neighbors } = this.graph.searchKnn(Array.from(query), kk);
      const found = neighbors.map((row) => {
        let s = 0;
        for (let i = 0, o = row * d; i < d; i++) s += query[i]! * this.data[o + i]!;
        return { row, score: Math.fround(s) };
      }).sort((a, b) => b.score - a.score || a.row - b.row);
      out.push({
        rows: Int32Array.from(found, (f) => f.row),
        scores: Float32Array.from(found, (f) => f.score),
        ids: found.map((f) => this.idList[f.row]!),
      });
    }
    return out;
  }

  /** Nothing on the GPU to release; present so that either kind of index can be disposed. */
  dispose(): void {}

  /** The index file's bytes: vectors, ids and hnswlib's serialized graph (src/io/FORMAT.md). */
  async toBytes(): Promise<Uint8Array> {
    const ids = new TextEncoder().encode(JSON.stringify(this.idList));
    const graph = await hnswGraphToBytes(this.graph);
    return writeSafetensors([
      ['vectors', { dtype: 'f32', shape: [this.count, this.dim], data: this.data.subarray(0, this.count * this.dim) }],
      ['ids', { dtype: 'u8', shape: [ids.length], data: ids }],
      ['hnsw', { dtype: 'u8', shape: [graph.length], data: graph }],
    ], {
      format: RETRIEVAL_INDEX_FORMAT, version: RETRIEVAL_INDEX_VERSION, kind: 'hnsw', metric: 'ip', normalized: 'l2',
      dim: String(this.dim), count: String(this.count), settings: JSON.stringify(this.settings),
      hnsw_m: String(this.m), hnsw_ef_construction: String(this.efConstruction), hnsw_ef_search: String(this.efSearch), hnsw_seed: String(this.seed),
    });
  }

  /**
   * Reads an HNSW index file. The stored graph is used when it matches the vectors; when it is
   * missing or unreadable (another hnswlib build), the graph is rebuilt from the vectors,
   * which the file always holds. `efSearch` overrides the stored value.
   */
  static async fromBytes(bytes: Uint8Array, what = 'retrieval index', options: { efSearch?: number } = {}): Promise<HnswIndex> {
    const file = readIndexFile(bytes, what);
    if (file.kind !== 'hnsw') throw new Error(`${what}: an exact index, not an HNSW one (open it with RetrievalIndex.load, or openRetrievalIndex)`);
    const num = (key: string): number | undefined => (file.metadata[key] === undefined ? undefined : Number(file.metadata[key]));
    const index = await HnswIndex.create(file.dim, {
      m: num('hnsw_m'), efConstruction: num('hnsw_ef_construction'), efSearch: options.efSearch ?? num('hnsw_ef_search'), seed: num('hnsw_seed'),
      settings: file.settings,
    });
    const graph = file.file.tensors.get('hnsw');
    let loaded = false;
    if (graph && graph.dtype === 'u8') {
      try {
        await hnswGraphFromBytes(index.graph, graph.data as Uint8Array);
        loaded = index.graph.getCurrentCount() === file.count && index.graph.getNumDimensions() === file.dim;
      } catch {
        loaded = false;
      }
    }
    if (loaded) {
      index.data = file.vectors;
      index.count = file.count;
    } else {
      const lib = await loadHnswlib();
      const fresh = new lib.HierarchicalNSW('ip', file.dim);
      fresh.initIndex({ maxElements: INITIAL_CAPACITY, m: index.m, efConstruction: index.efConstruction, randomSeed: index.seed });
      index.graph = fresh; // the partly read one is dropped
      index.append(file.vectors, file.count);
    }
    index.idList.push(...file.ids);
    return index;
  }

  /** Writes the index to `path` (atomically). */
  async save(path: string, files: FileStore = nodeFileStore): Promise<void> {
    await files.writeFileAtomic(path, await this.toBytes());
  }

  /** Reads an index written by `save`. */
  static async load(path: string, files: FileStore = nodeFileStore, options: { efSearch?: number } = {}): Promise<HnswIndex> {
    if (!(await files.stat(path))) throw new Error(`${path}: no such index file`);
    return HnswIndex.fromBytes(await files.readFile(path), path, options);
  }

  /** Appends n normalized rows to the stored vectors and the graph (labels = rows). */
  private append(normalized: Float32Array, n: number): void {
    const d = this.dim;
    if (this.count + n > this.data.length / d) {
      const grown = new Float32Array(Math.max(this.count + n, 2 * this.count) * d);
      grown.set(this.data.subarray(0, this.count * d));
      this.data = grown;
    }
    this.data.set(normalized.subarray(0, n * d), this.count * d);
    const capacity = this.graph.getMaxElements();
    if (this.count + n > capacity) this.graph.resizeIndex(Math.max(this.count + n, 2 * capacity));
    for (let r = 0; r < n; r++) this.graph.addPoint(Array.from(normalized.subarray(r * d, (r + 1) * d)), this.count + r);
    this.count += n;
  }
}

/** Either kind of index, as `openRetrievalIndex` returns it. */
export type AnyRetrievalIndex = RetrievalIndex | HnswIndex;

/**
 * Opens an index file of either kind (the file's `kind` says which): exact files as
 * RetrievalIndex, HNSW files as HnswIndex (Node only).
 */
export async function openRetrievalIndex(
  path: string, files: FileStore = nodeFileStore,
  options: Omit<RetrievalIndexOptions, 'settings'> & { efSearch?: number } = {},
): Promise<AnyRetrievalIndex> {
  if (!(await files.stat(path))) throw new Error(`${path}: no such index file`);
  const bytes = await files.readFile(path);
  const { efSearch, ...exact } = options;
  if (readIndexFile(bytes, path).kind === 'hnsw') return HnswIndex.fromBytes(bytes, path, efSearch === undefined ? {} : { efSearch });
  return RetrievalIndex.fromBytes(bytes, path, exact);
}
