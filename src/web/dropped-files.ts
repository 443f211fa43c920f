/**
 * Files of a drop that may hold folders. `DataTransfer.files` lists only the top level of a drop
 * (a dropped folder is one empty entry), so the page walks the File and Directory Entries API
 * (`webkitGetAsEntry`) instead, and records each file's path below the drop as `relativePath`,
 * which `FileListDataset` reads as it reads a folder picker's `webkitRelativePath`.
 */

/** What the walk needs of a `FileSystemEntry` (declared here so that tests can walk a fake tree). */
export interface DropEntry {
  readonly isFile: boolean;
  readonly isDirectory: boolean;
  readonly name: string;
  /** '/photos/train/cat/1.jpg': the path from the drop's root. */
  readonly fullPath: string;
}

/** What the walk needs of a `FileSystemFileEntry`. */
export interface DropFileEntry extends DropEntry {
  file(onFile: (file: File) => void, onError?: (err: unknown) => void): void;
}

/** What the walk needs of a `FileSystemDirectoryEntry`. */
export interface DropDirectoryEntry extends DropEntry {
  createReader(): { readEntries(onEntries: (entries: DropEntry[]) => void, onError?: (err: unknown) => void): void };
}

/** A dropped file with its path below the drop ('photos/train/cat/1.jpg'). */
export type DroppedFile = File & { readonly relativePath: string };

function fileOf(entry: DropFileEntry): Promise<File> {
  return new Promise((resolve, reject) => entry.file(resolve, (err) => reject(new Error(`could not read the dropped file ${entry.fullPath}: ${String(err)}`))));
}

/** All entries of a directory: `readEntries` gives them in batches (100 in Chrome) until an empty one. */
async function childrenOf(dir: DropDirectoryEntry): Promise<DropEntry[]> {
  const reader = dir.createReader();
  const all: DropEntry[] = [];
  for (;;) {
    const batch = await new Promise<DropEntry[]>((resolve, reject) =>
      reader.readEntries(resolve, (err) => reject(new Error(`could not list the dropped folder ${dir.fullPath}: ${String(err)}`))));
    if (batch.length === 0) return all;
    all.push(...batch);
  }
}

/** Marks `file` with its path below the drop (a File's own properties are read-only, so it is defined on the object). */
function withPath(file: File, path: string): DroppedFile {
  Object.defineProperty(file, 'relativePath', { value: path.replace(/^\/+/, ''), enumerable: true });
  return file as DroppedFile;
}

async function walk(entries: readonly DropEntry[], root: string, out: DroppedFile[]): Promise<void> {
  for (const entry of entries) {
    if (entry.isFile) out.push(withPath(await fileOf(entry as DropFileEntry), root + entry.fullPath));
    else if (entry.isDirectory) await walk(await childrenOf(entry as DropDirectoryEntry), root, out);
  }
}

/**
 * Every file below these entries (folders walked recursively), each with its `relativePath`.
 * One dropped folder is the picked folder (`photos/cat/1.jpg`); several entries dropped together
 * are the contents of one (`dropped/cat/1.jpg`), so that class folders (or `train/` and `val/`)
 * dropped side by side label their images as that folder would.
 */
export async function filesOfEntries(entries: readonly DropEntry[]): Promise<DroppedFile[]> {
  const out: DroppedFile[] = [];
  await walk(entries, entries.length > 1 ? 'dropped' : '', out);
  return out;
}

/**
 * The entries of a drop. Must be called during the drop event: the items are emptied once its
 * handler returns. Null where the browser gives no entries (then only `files` is available).
 */
export function dropEntries(data: DataTransfer): DropEntry[] | null {
  const items = Array.from(data.items ?? []).filter((it) => it.kind === 'file');
  const entries = items.map((it) => (typeof it.webkitGetAsEntry === 'function' ? it.webkitGetAsEntry() : null));
  return entries.length > 0 && entries.every((e) => e !== null) ? (entries as DropEntry[]) : null;
}
