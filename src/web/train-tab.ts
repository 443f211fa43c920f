/** The Train tab: data, options, live progress, loss and accuracy curves, stop/resume, download. */
import { lineChartSvg, type ResNetDepth } from '../index.js';
import { byId, download, dropZone, errorText, imageFiles } from './dom.js';
import { fashionMnistData, folderData, type PageTraining, type PageTrainData, type PageTrainOptions } from './page-training.js';
import type { PageApi } from './page-api.js';

function readOptions(): PageTrainOptions {
  const num = (id: string): number => Number(byId<HTMLInputElement>(id).value);
  return {
    backbone: Number(byId<HTMLSelectElement>('opt-backbone').value) as ResNetDepth,
    baseWidth: num('opt-width'), inputSize: num('opt-size'), epochs: num('opt-epochs'),
    batchSize: num('opt-batch'), learningRate: num('opt-lr'), trainSubset: num('opt-subset'), valSubset: Math.max(1, Math.round(num('opt-subset') / 4)), validateFirst: true,
  };
}

/** Loss and accuracy curves of the run so far (the library's SVG line chart). */
function drawCurves(run: PageTraining): void {
  const loss = run.steps.map((s): [number, number] => [s.epoch, s.loss]);
  const top1 = run.steps.map((s): [number, number] => [s.epoch, s.top1]);
  // the validation before training (epoch 0) is not an epoch event: it reaches the curves
  // through the run's history, which each run() leaves (a resumed run's history has the earlier epochs)
  const validated = new Map([...run.history, ...run.epochs].filter((e) => e.val).map((e) => [e.epoch, e.val!.top1] as const));
  const val = [...validated].sort(([a], [b]) => a - b).map(([epoch, top1]): [number, number] => [epoch, top1]);
  byId('train-curves').innerHTML =
    lineChartSvg('training loss', 'epoch', [{ name: 'loss', points: loss }], 560, 300) +
    lineChartSvg('accuracy (%)', 'epoch', [{ name: 'train top-1', points: top1 }, ...(val.length ? [{ name: 'val top-1', points: val }] : [])], 560, 300);
}

export function setupTrainTab(api: PageApi): void {
  const progress = byId('train-progress');
  const [start, stop, resume, save] = ['train-start', 'train-stop', 'train-resume', 'train-save'].map((id) => byId<HTMLButtonElement>(id)) as [HTMLButtonElement, HTMLButtonElement, HTMLButtonElement, HTMLButtonElement];
  const fm = api.served?.fashionMnist ?? null;
  byId('fmnist-note').textContent = fm ? '(served by multigrain serve)' : '(not offered here: start the page with multigrain serve on a machine with the data)';
  let picked: File[] = [];
  const folder = byId<HTMLInputElement>('train-folder');
  const note = byId('train-data-note');
  // the folder is read at once, so that a wrong layout is said before Train is pressed
  const pick = (files: File[]): void => {
    picked = imageFiles(files);
    (document.querySelector('input[name=train-data][value=folder]') as HTMLInputElement).checked = true;
    try {
      const data = folderData(picked);
      note.textContent = `${picked.length} image files picked: ${data.classes.length} classes (${data.classes.join(', ')}), ${data.train.length} training${data.val ? `, ${data.val.length} validation` : ''} images`;
      note.className = '';
    } catch (err) {
      note.textContent = `${picked.length} image files picked: ${errorText(err)}`;
      note.className = 'error';
    }
  };
  folder.addEventListener('change', () => pick(Array.from(folder.files ?? [])));
  dropZone(byId('train-drop'), pick, (err) => { note.textContent = errorText(err); note.className = 'error'; });

  let run: PageTraining | null = null;
  const setButtons = (): void => {
    const running = run?.running ?? false;
    start.disabled = running;
    stop.disabled = !running;
    resume.disabled = running || !run;
    save.disabled = running || !run?.checkpoint;
  };
  const go = async (): Promise<void> => {
    if (!run) return;
    setButtons();
    const task = run.run();
    setButtons();
    try {
      const { model, stopped } = await task;
      drawCurves(run);
      api.setModel(model);
      progress.textContent += stopped ? ' — stopped (Resume goes on from the last saved epoch)' : ' — done: the model is ready in Classify and Search';
    } catch (err) {
      progress.textContent = `training failed: ${errorText(err)}`;
    }
    setButtons();
  };
  start.addEventListener('click', () => {
    void (async () => {
      const options = readOptions();
      const useFolder = (document.querySelector('input[name=train-data]:checked') as HTMLInputElement).value === 'folder';
      let data: PageTrainData;
      try {
        if (useFolder) data = folderData(picked);
        else if (fm) { progress.textContent = 'fetching Fashion-MNIST…'; data = await fashionMnistData(fm, options); }
        else throw new Error('Fashion-MNIST is not offered by this server: pick a folder of class subfolders');
      } catch (err) {
        progress.textContent = errorText(err);
        return;
      }
      run = api.newTraining(data, options, {
        onStep: (r) => { progress.textContent = `${data.name}: epoch ${r.epoch.toFixed(2)} / ${options.epochs}, loss ${r.loss.toFixed(4)}, train top-1 ${r.top1.toFixed(1)}%`; drawCurves(run!); },
        onEpoch: (r) => { if (r.val) progress.textContent += `, val top-1 ${r.val.top1.toFixed(1)}%`; drawCurves(run!); },
      });
      await go();
    })();
  });
  stop.addEventListener('click', () => run?.stop());
  resume.addEventListener('click', () => void go());
  save.addEventListener('click', () => {
    void run?.checkpointBytes().then((bytes) => { if (bytes) download(bytes, 'multigrain_web.safetensors'); });
  });
}
