/**
 * Atomic file writes for Node: the data goes to a temporary file in the target's folder, is
 * flushed to disk (fsync), then renamed over the target. A crash or an exception at any point
 * leaves either the old file or the complete new one, never a partial file. Node-only: node:fs
 * is loaded lazily, so importing this module in a browser is harmless.
 */

/** Data for `writeFileAtomic`: bytes, a string (UTF-8), or chunks (sync or async). */
export type AtomicWriteData = Uint8Array | string | Iterable<Uint8Array> | AsyncIterable<Uint8Array>;

/** Options of `writeFileAtomic`. */
export interface AtomicWriteOptions {
  /** Flush the file and its folder to disk before/after the rename (default true). */
  fsync?: boolean;
  /** File mode of the new file (default 0o644, before umask). */
  mode?: number;
}

/**
 * The temporary files `writeFileAtomic` creates beside a target: `.<name>.<pid>.<random>.tmp`.
 * A process killed mid-write leaves one behind; the pid in the name tells whether its writer
 * can still be running (`removeOrphanedTemps` in src/io/folder-lock.ts removes the others).
 */
export const ATOMIC_TEMP_PATTERN = /^\..+\.(\d+)\.[0-9a-z]+\.tmp$/;

/** The name of a temporary file for `target`'s base name, written by process `pid` (matches ATOMIC_TEMP_PATTERN). */
export function atomicTempName(base: string, pid: number): string {
  return `.${base}.${pid}.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}.tmp`;
}

function assertNode(what: string): void {
  if (typeof process === 'undefined' || typeof process.versions?.node !== 'string') {
    throw new Error(`${what} needs Node.js (file system access)`);
  }
}

/**
 * Writes `data` to `path` atomically (temp file in the same folder + fsync + rename). If
 * producing or writing the data throws, the temp file is removed, `path` is untouched and the
 * error is rethrown.
 */
export async function writeFileAtomic(path: string, data: AtomicWriteData, options: AtomicWriteOptions = {}): Promise<void> {
  assertNode('writeFileAtomic');
  const fs = await import('node:fs/promises');
  const { dirname, basename, join } = await import('node:path');
  const dir = dirname(path);
  const tmp = join(dir, atomicTempName(basename(path), process.pid));
  const sync = options.fsync !== false;
  let fh: Awaited<ReturnType<typeof fs.open>> | undefined = await fs.open(tmp, 'wx', options.mode ?? 0o644);
  try {
    const chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array> =
      typeof data === 'string' ? [new TextEncoder().encode(data)] : data instanceof Uint8Array ? [data] : data;
    for await (const chunk of chunks) {
      let off = 0;
      while (off < chunk.byteLength) {
        const { bytesWritten } = await fh.write(chunk, off, chunk.byteLength - off);
        off += bytesWritten;
      }
    }
    if (sync) await fh.sync();
    await fh.close();
    fh = undefined;
    await fs.rename(tmp, path);
  } catch (e) {
    if (fh) await fh.close().catch(() => undefined);
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw e;
  }
  if (sync) {
    // Make the rename itself durable; not possible on every platform (e.g. Windows), so best effort.
    try {
      const d = await fs.open(dir, 'r');
      try { await d.sync(); } finally { await d.close(); }
    } catch { /* ignore */ }
  }
}
