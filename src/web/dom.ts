/** Small DOM helpers of the page (no framework: the page is a static folder). */
import { dropEntries, filesOfEntries } from './dropped-files.js';

/** Creates an element with attributes and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K, attrs: Record<string, string> = {}, ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  el.append(...children);
  return el;
}

/** The element with this id; throws naming it when the page lacks it. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`page: no element #${id}`);
  return el as T;
}

/** Offers bytes as a download under `name`. */
export function download(bytes: Uint8Array, name: string, type = 'application/octet-stream'): void {
  const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type }));
  const a = h('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

const IMAGE_FILE = /\.(jpe?g|png|webp|bmp|gif)$/i;

/** The image files among picked or dropped files (folders picked with webkitdirectory give every file). */
export function imageFiles(files: Iterable<File>): File[] {
  return [...files].filter((f) => IMAGE_FILE.test(f.name) || f.type.startsWith('image/'));
}

/** The relative path of a picked or dropped file (`root/class/name.jpg` from a folder), else its name. */
export function relativePath(f: File): string {
  const g = f as File & { relativePath?: string };
  return g.webkitRelativePath || g.relativePath || f.name;
}

/**
 * Makes `zone` accept dropped files and folders (folders are walked: `onFiles` gets every file
 * below them, each with its `relativePath`), and highlights it while dragging. A failed walk
 * goes to `onError`. Where the zone holds a file input, Enter or Space on the zone opens it.
 */
export function dropZone(zone: HTMLElement, onFiles: (files: File[]) => void, onError: (err: unknown) => void = console.error): void {
  // keyboard users cannot drop: the zone takes focus, and Enter or Space opens its file picker
  const picker = zone.querySelector<HTMLInputElement>('input[type=file]');
  if (picker) {
    zone.tabIndex = 0;
    zone.addEventListener('keydown', (e) => {
      if (e.target !== zone || (e.key !== 'Enter' && e.key !== ' ')) return;
      e.preventDefault();
      picker.click();
    });
  }
  zone.addEventListener('dragover', (e) => { e.preventDefault(); zone.classList.add('over'); });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('over');
    const entries = e.dataTransfer ? dropEntries(e.dataTransfer) : null;
    if (entries) filesOfEntries(entries).then(onFiles, onError);
    else onFiles(Array.from(e.dataTransfer?.files ?? []));
  });
}

/** A message for a caught error. */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
