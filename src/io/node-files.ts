/**
 * File-path conveniences for Node over the in-memory readers and writers, and `nodeFileStore`,
 * the Node implementation of `FileStore` (src/io/file-store.ts). node:fs is imported lazily, so
 * bundling this module for a browser is harmless (calling these there throws).
 */
import { writeFileAtomic, type AtomicWriteData } from './atomic-write.js';
import type { FileStat, FileStore, ProcessIdentity } from './file-store.js';
import { decodeCheckpoint, encodeCheckpoint, type CheckpointData } from './checkpoint.js';
import type { HostTensor, StateDict } from './host-tensor.js';
import { readSafetensors, writeSafetensors, type SafetensorsContents } from './safetensors.js';
import { loadTorchCheckpoint, type TorchCheckpoint, type TorchLoadOptions } from './torch-load.js';
import { byteSourceName, readByteSource, type ByteSource } from './byte-source.js';

function nodeFs(what: string): Promise<typeof import('node:fs/promises')> {
  if (typeof process === 'undefined' || typeof process.versions?.node !== 'string') {
    throw new Error(`${what} needs Node.js; in a browser, fetch the file and pass its bytes`);
  }
  return import('node:fs/promises');
}

/** Reads a whole file into a Uint8Array (Node). */
export async function readFileBytes(path: string): Promise<Uint8Array> {
  const fs = await nodeFs('readFileBytes');
  const b = await fs.readFile(path);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** 'dir', 'file' or null (missing); symlinks are followed (Node). */
export async function pathKind(path: string): Promise<'dir' | 'file' | null> {
  const fs = await nodeFs('pathKind');
  try {
    const st = await fs.stat(path);
    return st.isDirectory() ? 'dir' : 'file';
  } catch {
    return null;
  }
}

/** Entry names of a directory, split into sub-directories and files, unsorted; symlinks followed (Node). */
export async function listDirEntries(path: string): Promise<{ dirs: string[]; files: string[] }> {
  const fs = await nodeFs('listDir');
  const entries = await fs.readdir(path, { withFileTypes: true });
  const dirs: string[] = [];
  const files: string[] = [];
  for (const e of entries) {
    let isDir = e.isDirectory();
    let isFile = e.isFile();
    if (e.isSymbolicLink()) {
      const kind = await pathKind(`${path}/${e.name}`);
      isDir = kind === 'dir';
      isFile = kind === 'file';
    }
    if (isDir) dirs.push(e.name);
    else if (isFile) files.push(e.name);
  }
  return { dirs, files };
}

/** The local file system (Node): the `FileStore` the training program and the CLI use by default. */
export const nodeFileStore: FileStore = {
  async mkdir(path: string): Promise<void> {
    await (await nodeFs('mkdir')).mkdir(path, { recursive: true });
  },
  readFile: readFileBytes,
  writeFileAtomic(path: string, data: AtomicWriteData): Promise<void> {
    return writeFileAtomic(path, data);
  },
  async list(dir: string): Promise<string[]> {
    return (await nodeFs('list')).readdir(dir);
  },
  async remove(path: string): Promise<void> {
    await (await nodeFs('remove')).rm(path, { force: true });
  },
  async stat(path: string): Promise<FileStat | null> {
    const s = await (await nodeFs('stat')).stat(path).catch(() => null);
    return s && { isFile: s.isFile(), isDirectory: s.isDirectory(), size: s.isFile() ? s.size : 0 };
  },
  async createExclusive(path: string, data: string): Promise<boolean> {
    const fs = await nodeFs('createExclusive');
    try {
      await fs.writeFile(path, data, { flag: 'wx' });
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw e;
    }
  },
  async processIdentity(): Promise<ProcessIdentity> {
    const { hostname } = await import('node:os');
    return { pid: process.pid, host: hostname() };
  },
  async processAlive(pid: number): Promise<boolean> {
    if (!Number.isInteger(pid) || pid <= 0) return false;
    try {
      process.kill(pid, 0); // signal 0: only checks that the process exists
    } catch (e) {
      // EPERM: it exists but belongs to another user; only ESRCH says it is gone
      return (e as NodeJS.ErrnoException).code !== 'ESRCH';
    }
    return !(await isZombie(pid));
  },
};

/**
 * A killed process whose parent has not reaped it yet (state Z in /proc, Linux) still answers
 * signal 0, but its run is over.
 */
async function isZombie(pid: number): Promise<boolean> {
  try {
    const stat = await (await nodeFs('processAlive')).readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false; // no /proc (macOS, Windows) or the process just ended
  }
}

/** Runs a reader on a source's bytes, its errors naming the source. */
async function readNamed<T>(source: ByteSource, read: (bytes: Uint8Array) => T | Promise<T>): Promise<T> {
  const bytes = await readByteSource(source);
  try {
    return await read(bytes);
  } catch (e) {
    (e as Error).message = `${byteSourceName(source)}: ${(e as Error).message}`;
    throw e;
  }
}

/** Reads a `.pth`/`.pt` file written by `torch.save` (either format), from a path, URL, Blob/File or bytes. */
export function loadTorchCheckpointFile(source: ByteSource, options?: TorchLoadOptions): Promise<TorchCheckpoint> {
  return readNamed(source, (bytes) => loadTorchCheckpoint(bytes, options));
}

/** Reads a `.safetensors` file, from a path, URL, Blob/File or bytes. */
export function readSafetensorsFile(source: ByteSource): Promise<SafetensorsContents> {
  return readNamed(source, readSafetensors);
}

/** Writes a `.safetensors` file atomically. */
export async function writeSafetensorsFile(
  path: string,
  tensors: StateDict | Iterable<readonly [string, HostTensor]>,
  metadata?: Record<string, string>,
): Promise<void> {
  await writeFileAtomic(path, writeSafetensors(tensors, metadata));
}

/** Writes one of our checkpoints atomically (an interrupted save leaves the previous file intact). */
export async function saveCheckpointFile(path: string, data: CheckpointData): Promise<void> {
  await writeFileAtomic(path, encodeCheckpoint(data));
}

/** Reads one of our checkpoints, from a path, URL, Blob/File or bytes. */
export function loadCheckpointFile(source: ByteSource): Promise<CheckpointData> {
  return readNamed(source, decodeCheckpoint);
}
