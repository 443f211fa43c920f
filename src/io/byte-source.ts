/**
 * Where the bytes of a file come from, as every reader above io takes it: bytes already in
 * memory, a Blob or File (a page's picker or drop), a URL (fetched: http(s), blob:, data:;
 * `file:` URLs and plain paths are read from the local disk in Node, or from a FileStore).
 * Nothing here imports Node: a page passes bytes, Blobs or URLs.
 */
import type { FileStore } from './file-store.js';
import { readFileBytes } from './node-files.js';

/** A file's bytes, a Blob/File, a URL, or a path. */
export type ByteSource = Uint8Array | ArrayBuffer | Blob | URL | string;

/** Schemes read with fetch (a `file:` URL is read as a path). */
const FETCHED = /^(https?|blob|data):/i;

/** How a source is named in messages: its path or URL, a File's name, or `<N bytes>`. */
export function byteSourceName(source: ByteSource): string {
  if (typeof source === 'string') return FETCHED.test(source) && source.length > 200 ? `${source.slice(0, 60)}...` : source;
  if (source instanceof URL) return source.href;
  if (source instanceof Uint8Array || source instanceof ArrayBuffer) return `<${source.byteLength} bytes>`;
  const name = (source as { name?: unknown }).name;
  return typeof name === 'string' && name !== '' ? name : `<Blob of ${source.size} bytes>`;
}

/** The path of a `file:` URL (percent-decoding kept exact, without node:url). */
function fileUrlPath(url: URL): string {
  return decodeURIComponent(url.pathname);
}

/**
 * The whole content of a source. `files`: where paths are read (default: the local disk in
 * Node). Errors name the source (a failed fetch with its HTTP status).
 */
export async function readByteSource(source: ByteSource, files?: FileStore): Promise<Uint8Array> {
  if (source instanceof Uint8Array) return source;
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  if (typeof Blob !== 'undefined' && source instanceof Blob) return new Uint8Array(await source.arrayBuffer());
  const url = source instanceof URL ? source : typeof source === 'string' && (FETCHED.test(source) || /^file:/i.test(source)) ? new URL(source) : null;
  if (url && url.protocol !== 'file:') return fetchBytes(url);
  const path = url ? fileUrlPath(url) : (source as string);
  if (typeof path !== 'string') throw new Error(`not a file source: ${String(source)} (give bytes, a Blob or File, a URL or a path)`);
  try {
    return await (files ? files.readFile(path) : readFileBytes(path));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') throw new Error(`${path}: no such file`);
    if (!err.message.includes(path)) err.message = `${path}: ${err.message}`;
    throw err;
  }
}

async function fetchBytes(url: URL): Promise<Uint8Array> {
  const name = byteSourceName(url);
  let response: Response;
  try {
    response = await fetch(url);
  } catch (e) {
    throw new Error(`${name}: fetch failed (${(e as Error).message})`, { cause: e });
  }
  if (!response.ok) throw new Error(`${name}: HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`);
  return new Uint8Array(await response.arrayBuffer());
}
