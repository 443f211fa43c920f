/**
 * The Node side of the approximate (HNSW) retrieval index: loading hnswlib-node, a native
 * addon, and moving its graph to and from bytes. hnswlib serializes only to a file path, so
 * the bytes pass through a private temporary folder; that needs node:fs and node:os, which
 * only src/io may import. Everything is imported lazily: bundled for a page, this module is
 * harmless until called, and then says that the approximate index needs Node.
 */
import type * as Hnswlib from 'hnswlib-node';

export type HnswlibModule = typeof Hnswlib;
export type HnswGraph = Hnswlib.HierarchicalNSW;

let hnswPromise: Promise<HnswlibModule> | null = null;

function inNode(): boolean {
  return typeof process !== 'undefined' && typeof process.versions?.node === 'string';
}

/** hnswlib-node, loaded once; a clear error in a page or where the addon did not install. */
export function loadHnswlib(): Promise<HnswlibModule> {
  if (!inNode()) {
    return Promise.reject(new Error('the approximate (HNSW) index needs Node.js: hnswlib-node is a native addon (in a page, use the exact RetrievalIndex)'));
  }
  hnswPromise ??= import('hnswlib-node')
    .then((m) => ((m as unknown as { default?: HnswlibModule }).default ?? m) as HnswlibModule)
    .catch((err: unknown) => {
      hnswPromise = null;
      throw new Error(`the approximate (HNSW) index needs the npm package hnswlib-node, which did not load (${(err as Error).message.split('\n')[0]}); run npm install, or use the exact index`);
    });
  return hnswPromise;
}

/** Runs `use` with a fresh temporary file path, removing its folder afterwards. */
async function withTempFile<T>(use: (path: string) => Promise<T>): Promise<T> {
  const [fs, os, path] = await Promise.all([import('node:fs/promises'), import('node:os'), import('node:path')]);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'multigrain-hnsw-'));
  try {
    return await use(path.join(dir, 'graph.hnsw'));
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** hnswlib's own serialization of a graph (its writeIndex format), as bytes. */
export async function hnswGraphToBytes(graph: HnswGraph): Promise<Uint8Array> {
  return withTempFile(async (file) => {
    graph.writeIndexSync(file);
    const fs = await import('node:fs/promises');
    const b = await fs.readFile(file);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  });
}

/** Reads bytes from {@link hnswGraphToBytes} into `graph` (made with the same space and dimension). */
export async function hnswGraphFromBytes(graph: HnswGraph, bytes: Uint8Array): Promise<void> {
  await withTempFile(async (file) => {
    const fs = await import('node:fs/promises');
    await fs.writeFile(file, bytes);
    graph.readIndexSync(file);
  });
}
