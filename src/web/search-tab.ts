/** The Search tab: a gallery from dropped images or a folder, a query, its nearest neighbours. */
import { h, byId, download, dropZone, errorText, imageFiles, relativePath } from './dom.js';
import type { PageApi } from './page-api.js';
import type { GalleryHit } from './gallery.js';

export function setupSearchTab(api: PageApi): void {
  const note = byId('gallery-note');
  const grid = byId('gallery-grid');
  const out = byId('search-out');
  const npy = byId<HTMLButtonElement>('gallery-npy');
  let thumbs: string[] = [];

  const show = (title: string, hits: GalleryHit[]): void => {
    out.replaceChildren(h('h4', {}, title), h('div', { class: 'grid' }, ...hits.map((hit, r) =>
      h('figure', { class: 'hit' }, h('img', { src: thumbs[hit.index]!, alt: hit.name }),
        h('figcaption', {}, `${r + 1}. ${hit.score.toFixed(4)}`, h('br'), hit.name)))));
  };
  const run = async (what: string, task: () => Promise<GalleryHit[]>): Promise<void> => {
    try {
      show(`nearest to ${what}`, await task());
    } catch (err) {
      out.replaceChildren(h('p', { class: 'error' }, errorText(err)));
    }
  };

  const build = async (files: File[]): Promise<void> => {
    const images = imageFiles(files);
    if (!images.length) { note.textContent = 'no image files among those'; return; }
    thumbs.forEach((u) => URL.revokeObjectURL(u));
    thumbs = images.map((f) => URL.createObjectURL(f));
    grid.replaceChildren();
    npy.disabled = true;
    note.textContent = `embedding ${images.length} images…`;
    try {
      const names = images.map(relativePath);
      await api.buildGallery(images, names, (done) => { note.textContent = `embedding: ${done} / ${images.length}`; });
      note.textContent = `gallery: ${images.length} images (click one to search with it)`;
      grid.append(...names.map((name, i) => {
        const fig = h('figure', {}, h('img', { src: thumbs[i]!, alt: name, title: name }), h('figcaption', {}, name));
        fig.addEventListener('click', () => void run(name, () => api.search(i)));
        return fig;
      }));
      npy.disabled = false;
    } catch (err) {
      note.textContent = errorText(err);
    }
  };
  api.onModelChange(() => { grid.replaceChildren(); out.replaceChildren(); npy.disabled = true; note.textContent = 'the model changed: build the gallery again'; });
  for (const id of ['gallery-files', 'gallery-folder']) {
    const input = byId<HTMLInputElement>(id);
    input.addEventListener('change', () => void build(Array.from(input.files ?? [])));
  }
  dropZone(byId('gallery-drop'), (files) => void build(files), (err) => { note.textContent = errorText(err); });
  const query = (files: File[]): void => {
    const f = imageFiles(files)[0];
    if (f) void run(f.name, () => api.search(f));
  };
  const qf = byId<HTMLInputElement>('query-file');
  qf.addEventListener('change', () => query(Array.from(qf.files ?? [])));
  dropZone(byId('query-drop'), query, (err) => out.replaceChildren(h('p', { class: 'error' }, errorText(err))));
  npy.addEventListener('click', () => download(api.galleryNpy(), 'gallery_embeddings.npy'));
}
