/**
 * The file operations the training program and the commands need, as an interface, so that
 * the layers above io (multigrain) never import node:fs or node:path. The Node implementation
 * is `nodeFileStore` (src/io/node-files.ts); `MemoryFileStore` keeps files in a Map (tests,
 * or a browser that collects a run's outputs). Paths are joined with `joinPath`, a pure helper.
 */
import type { AtomicWriteData } from './atomic-write.js';

/** What `FileStore.stat` reports of an existing path. */
export interface FileStat {
  isFile: boolean;
  isDirectory: boolean;
  /** Bytes (0 for a folder). */
  size: number;
}

/** A process as a lock file records it (src/io/folder-lock.ts). */
export interface ProcessIdentity {
  pid: number;
  host: string;
}

export interface FileStore {
  /** Creates a folder and its missing parents (no error when it exists). */
  mkdir(path: string): Promise<void>;
  /** The whole file (throws when it is missing). */
  readFile(path: string): Promise<Uint8Array>;
  /** Writes a file so that a crash leaves either the old content or the whole new one. */
  writeFileAtomic(path: string, data: AtomicWriteData): Promise<void>;
  /** The names (not paths) in a folder (throws when it is missing). */
  list(dir: string): Promise<string[]>;
  /** Deletes a file; no error when it is already gone. */
  remove(path: string): Promise<void>;
  /** What is at `path`, or null when nothing is. */
  stat(path: string): Promise<FileStat | null>;
  /**
   * Creates `path` holding `data` only if nothing is there, in one atomic step (Node: open
   * with 'wx', O_CREAT | O_EXCL): true when this call created it, false when it existed. Two
   * processes racing for the same path cannot both get true, which is what makes a lock file.
   */
  createExclusive(path: string, data: string): Promise<boolean>;
  /** This process, as lock files record it: its pid and host name. */
  processIdentity(): Promise<ProcessIdentity>;
  /**
   * Whether a process with this pid is running on this host (false only when it surely is
   * not, so that a live run's lock is never taken over).
   */
  processAlive(pid: number): Promise<boolean>;
}

/** A file's text (UTF-8), or null when it cannot be read. */
export async function readTextFile(files: FileStore, path: string): Promise<string | null> {
  const bytes = await files.readFile(path).catch(() => null);
  return bytes === null ? null : new TextDecoder().decode(bytes);
}

/**
 * Joins path pieces with '/' and normalizes the result like node:path's posix `join`
 * ('.' pieces dropped, 'a/..' folded, repeated slashes collapsed; '' gives '.').
 */
export function joinPath(...parts: string[]): string {
  const joined = parts.filter((p) => p !== '').join('/');
  if (joined === '') return '.';
  const absolute = joined.startsWith('/');
  const out: string[] = [];
  for (const seg of joined.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..' && out.length > 0 && out[out.length - 1] !== '..') out.pop();
    else if (seg === '..' && absolute) continue;
    else out.push(seg);
  }
  const body = out.join('/');
  const trailing = joined.endsWith('/') && body !== '' ? '/' : '';
  if (absolute) return '/' + body + trailing;
  return body === '' ? '.' : body + trailing;
}

function normalizeKey(path: string): string {
  const p = joinPath(path);
  return p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p;
}

function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '.' : i === 0 ? '/' : path.slice(0, i);
}

/**
 * Files in memory: a Map from normalized path to bytes, plus the set of folders. It stands
 * for one process (`identity`) on one host; `livePids` are the processes it reports alive
 * (tests add or remove pids to play a lock's holder).
 */
export class MemoryFileStore implements FileStore {
  readonly files = new Map<string, Uint8Array>();
  readonly dirs = new Set<string>(['.', '/']);
  identity: ProcessIdentity = { pid: 1, host: 'memory' };
  readonly livePids = new Set<number>([1]);

  async mkdir(path: string): Promise<void> {
    for (let p = normalizeKey(path); !this.dirs.has(p); p = parentOf(p)) {
      if (this.files.has(p)) throw new Error(`mkdir ${path}: ${p} is a file`);
      this.dirs.add(p);
    }
  }

  async readFile(path: string): Promise<Uint8Array> {
    const data = this.files.get(normalizeKey(path));
    if (!data) throw new Error(`${path}: no such file`);
    return data.slice();
  }

  async writeFileAtomic(path: string, data: AtomicWriteData): Promise<void> {
    const key = normalizeKey(path);
    if (!this.dirs.has(parentOf(key))) throw new Error(`${path}: no such folder ${parentOf(key)}`);
    const chunks: Uint8Array[] = [];
    if (typeof data === 'string') chunks.push(new TextEncoder().encode(data));
    else if (data instanceof Uint8Array) chunks.push(data);
    else for await (const chunk of data) chunks.push(chunk);
    const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
    let off = 0;
    for (const c of chunks) { out.set(c, off); off += c.byteLength; }
    this.files.set(key, out);
  }

  async list(dir: string): Promise<string[]> {
    const key = normalizeKey(dir);
    if (!this.dirs.has(key)) throw new Error(`${dir}: no such folder`);
    const names = new Set<string>();
    for (const p of [...this.files.keys(), ...this.dirs]) {
      if (p !== key && parentOf(p) === key) names.add(p.slice(key === '/' ? 1 : key === '.' ? 0 : key.length + 1));
    }
    return [...names].sort();
  }

  async remove(path: string): Promise<void> {
    this.files.delete(normalizeKey(path));
  }

  async stat(path: string): Promise<FileStat | null> {
    const key = normalizeKey(path);
    const data = this.files.get(key);
    if (data) return { isFile: true, isDirectory: false, size: data.byteLength };
    return this.dirs.has(key) ? { isFile: false, isDirectory: true, size: 0 } : null;
  }

  async createExclusive(path: string, data: string): Promise<boolean> {
    const key = normalizeKey(path);
    if (this.files.has(key) || this.dirs.has(key)) return false;
    await this.writeFileAtomic(path, data);
    return true;
  }

  async processIdentity(): Promise<ProcessIdentity> {
    return { ...this.identity };
  }

  async processAlive(pid: number): Promise<boolean> {
    return this.livePids.has(pid);
  }
}
