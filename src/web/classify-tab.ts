/** The Classify tab: load a checkpoint, drop or pick images, see their top-5 classes. */
import { h, byId, dropZone, errorText, imageFiles } from './dom.js';
import type { PageApi } from './page-api.js';

function describeModel(api: PageApi): string {
  const m = api.model;
  if (!m) return 'no model';
  const o = m.model.options;
  return `model: ResNet-${o.backbone} width ${o.baseWidth}, ${m.classes.length} classes, input ${m.inputSize} (${m.source})`;
}

export function setupClassifyTab(api: PageApi): void {
  const out = byId('classify-out');
  api.onModelChange(() => { byId('model-line').textContent = describeModel(api); });
  const say = (text: string, error = false): void => { out.replaceChildren(h('p', error ? { class: 'error' } : {}, text)); };

  const load = async (source: File | string): Promise<void> => {
    say(`loading ${typeof source === 'string' ? source : source.name}…`);
    try {
      await api.openCheckpoint(source);
      say(describeModel(api));
    } catch (err) {
      say(`could not open the checkpoint: ${errorText(err)}`, true);
    }
  };
  const file = byId<HTMLInputElement>('ckpt-file');
  file.addEventListener('change', () => { const f = file.files?.[0]; if (f) void load(f); });
  const served = byId<HTMLButtonElement>('ckpt-served');
  if (api.served?.checkpoint) {
    served.hidden = false;
    served.textContent = `use the served checkpoint (${decodeURIComponent(api.served.checkpoint.split('/').pop()!)})`;
    served.addEventListener('click', () => void load(api.served!.checkpoint!.replace(/^\//, '')));
  }

  const classify = async (files: File[]): Promise<void> => {
    const images = imageFiles(files);
    if (!images.length) return say('no image files among those', true);
    say(`classifying ${images.length} image(s)…`);
    try {
      const answers = await api.classify(images);
      out.replaceChildren(...images.map((f, i) => {
        const img = h('img', { src: URL.createObjectURL(f), alt: f.name });
        img.addEventListener('load', () => URL.revokeObjectURL(img.src), { once: true });
        return h('div', { class: 'result' }, img, h('div', {}, h('b', {}, f.name),
          h('table', {}, ...answers[i]!.map((c) => h('tr', {}, h('td', {}, c.name), h('td', {}, `${(100 * c.probability).toFixed(1)}%`))))));
      }));
    } catch (err) {
      say(errorText(err), true);
    }
  };
  const pick = byId<HTMLInputElement>('classify-files');
  pick.addEventListener('change', () => void classify(Array.from(pick.files ?? [])));
  dropZone(byId('classify-drop'), (files) => void classify(files));
}
