/**
 * One run per experiment folder. A command that writes into a folder first creates
 * `<folder>/.lock` (JSON: pid, host, start time, command) with an exclusive create, so that a
 * second run on the same folder fails at once instead of overwriting the first one's
 * checkpoints. A lock left by a process that is gone (same host, pid not running: a run killed
 * with SIGKILL) is taken over with a message; a lock from another host cannot be checked and
 * is never taken over. The holder removes the lock when it ends, on error too.
 *
 * Limit: two runs that find the same stale lock within milliseconds of each other may both
 * take it over (remove + create is two steps); a live lock is never taken over.
 */
import { ATOMIC_TEMP_PATTERN } from './atomic-write.js';
import { joinPath, readTextFile, type FileStore } from './file-store.js';

/** The lock file's name in a locked folder. */
export const LOCK_FILE = '.lock';

/** What a lock file records of the run holding the folder. */
export interface LockInfo {
  pid: number;
  host: string;
  /** ISO 8601 time the run took the lock. */
  started: string;
  /** The command that holds it (`train`, `finetune-p`, `whiten`, or a library caller's label). */
  command: string;
}

/** A folder held by this process. */
export interface FolderLock {
  readonly dir: string;
  /** The lock file. */
  readonly path: string;
  readonly info: LockInfo;
  /** Removes the lock file if it is still this run's (idempotent). */
  release(): Promise<void>;
}

function parseLock(text: string | null): LockInfo | null {
  if (text === null) return null;
  try {
    const v = JSON.parse(text) as Partial<LockInfo>;
    if (typeof v.pid === 'number' && typeof v.host === 'string') {
      return { pid: v.pid, host: v.host, started: String(v.started ?? '?'), command: String(v.command ?? '?') };
    }
  } catch { /* not JSON: see below */ }
  return null;
}

const sameLock = (a: LockInfo, b: LockInfo): boolean => a.pid === b.pid && a.host === b.host && a.started === b.started;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Takes `<dir>/.lock` for this process (creating `dir` if needed). Throws when another live
 * run holds the folder, naming the folder, the holder's pid, host, start time and command, and
 * how to proceed; takes over a stale lock (its process is gone) with a line to `log`.
 */
export async function lockFolder(files: FileStore, dir: string, command: string, log: (line: string) => void = () => undefined): Promise<FolderLock> {
  await files.mkdir(dir);
  const path = joinPath(dir, LOCK_FILE);
  const me = await files.processIdentity();
  const info: LockInfo = { pid: me.pid, host: me.host, started: new Date().toISOString(), command };
  const lock: FolderLock = {
    dir, path, info,
    async release() {
      // never remove a lock another run took over in the meantime
      const now = parseLock(await readTextFile(files, path));
      if (now && sameLock(now, info)) await files.remove(path);
    },
  };
  for (let attempt = 0; attempt < 5; attempt++) {
    if (await files.createExclusive(path, JSON.stringify(info, null, 2) + '\n')) return lock;
    let holder = parseLock(await readTextFile(files, path));
    if (!holder) {
      // Just created by another run that has not written it yet, or removed meanwhile: look again.
      await sleep(200);
      const text = await readTextFile(files, path);
      if (text === null) continue;
      holder = parseLock(text);
      if (!holder) {
        log(`${dir}: the lock file ${path} is unreadable (left by an interrupted start); taking it over`);
        await files.remove(path);
        continue;
      }
    }
    const stale = holder.host === me.host && !(await files.processAlive(holder.pid));
    if (!stale) {
      const sameProcess = holder.host === me.host && holder.pid === me.pid;
      throw new Error(
        `${dir} is in use by another run: pid ${holder.pid} on host ${holder.host}` +
          `${sameProcess ? ' (this process)' : ''}, ${holder.command} started ${holder.started}. ` +
          'Wait for it to end or use another folder (--expdir); two runs in one folder overwrite each other\'s files. ' +
          (holder.host === me.host
            ? `If that run is gone, delete ${path}.`
            : `This host cannot check a process on ${holder.host}: if no run there uses this folder, delete ${path}.`),
      );
    }
    log(`${dir}: taking over the lock of pid ${holder.pid} (${holder.command} started ${holder.started}), which is no longer running`);
    await files.remove(path);
  }
  throw new Error(`${dir}: could not take the lock ${path} (other runs keep taking it); try again`);
}

/**
 * Removes the temporary files of atomic writes (`.<name>.<pid>.<random>.tmp`) that a killed
 * process left in `dir`; those of a process still running (a write in progress) are kept.
 * Call it while holding the folder's lock. Reports one line to `log` when it removed any, and
 * returns the names removed.
 */
export async function removeOrphanedTemps(files: FileStore, dir: string, log: (line: string) => void = () => undefined): Promise<string[]> {
  const names = await files.list(dir).catch(() => [] as string[]);
  const me = await files.processIdentity();
  const removed: string[] = [];
  for (const name of names) {
    const m = ATOMIC_TEMP_PATTERN.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === me.pid || (await files.processAlive(pid))) continue;
    await files.remove(joinPath(dir, name));
    removed.push(name);
  }
  if (removed.length > 0) {
    log(`${dir}: removed ${removed.length} temporary file${removed.length > 1 ? 's' : ''} left by interrupted writes (${removed.join(', ')})`);
  }
  return removed;
}
