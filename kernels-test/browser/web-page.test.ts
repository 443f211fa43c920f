// The web page (dist/web, served by `multigrain serve`'s server) end to end in headless
// Chromium on SwiftShader, driven through its test contract (`window.multigrain`,
// `window.multigrainReady`): decoding parity with the Node path, a checkpoint made here in Node
// classified and embedded in the page as in Node, near-duplicate search with a crop, GPU memory
// flat over 100 queries, and the message of a page without WebGPU. Every await has a time
// limit; Chromium and the server are closed whatever happens.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import sharp from 'sharp';
import type { Browser, FileChooser, Page } from 'playwright-core';
import {
  init, train, MemoryFileStore, NodeImageDecoder, validationSquare, openMultiGrain, writeSafetensors, FASHION_MNIST_CLASSES, TRAIN_DEFAULTS, FASHION_MNIST_DEFAULT_ROOT,
  type PoolStats, type DatasetSample,
} from '../../src/index.js';
import { startStaticServer, type StaticServer } from '../../src/cli/static-server.js';
import { openCheckpoint } from '../../src/web/loaded-model.js';
import { embedInputs } from '../../src/web/inference.js';
import { CHROMIUM_ARGS, CHROMIUM_BASE_ARGS, launchChromium, pageLog, withTimeout } from './chromium.js';
import { scratchDir } from '../scratch-dir.js';

const test = suite('web page');

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const WEB = join(ROOT, 'dist/web');
const PHOTOS = join(ROOT, 'kernels-test/fixtures/images');
const PHOTO_NAMES = ['chelsea.jpg', 'rocket.jpg', 'astronaut.png', 'coffee.webp'];
const CLASSES = ['cat', 'rocket', 'astronaut', 'coffee', 'tree', 'car', 'boat'];
const INPUT_SIZE = 64;
/** Epochs of 48 random crops (3 steps each) that the search model trains for. */
const TRAIN_EPOCHS = 4;
/**
 * Largest difference allowed, in 8-bit levels, between the browser's and sharp's decode of the
 * same photo after the evaluation resize (shorter side 256, center crop 224). Measured on this
 * machine (Chromium 156, sharp 0.34.5): 0 for all four photos, the JPEGs included (both
 * use libjpeg-turbo with the same upsampling). Other builds may round JPEG chroma upsampling or
 * IDCT differently by a level or two; 3 allows that and still fails on a wrong orientation,
 * channel order, alpha handling or crop.
 */
const DECODE_MAX_LEVELS = 3;

let server: StaticServer | null = null;
let browser: Browser | null = null;
let page: Page | null = null;
let logTail: () => string = () => '';
let checkpointPath = '';
const extraFiles = new Map<string, Buffer>();

test.before(async () => {
  if (!existsSync(join(WEB, 'index.html'))) throw new Error(`${WEB}/index.html is missing: run \`node tools/build.mjs\``);
  if (!existsSync(FASHION_MNIST_DEFAULT_ROOT)) throw new Error(`${FASHION_MNIST_DEFAULT_ROOT} is missing: \`bash tools/setup.sh\` installs Debian's dataset-fashion-mnist`);
  await init();
  // A tiny MultiGrain trained here to tell the four photos apart (random crops of each are its
  // class): its checkpoint records the class names and input size. Untrained, every photo's
  // embedding is alike (cosine 0.96-0.98) and a search proves nothing.
  const dir = scratchDir('web');
  checkpointPath = join(dir, 'tiny.safetensors');
  const decoder = new NodeImageDecoder();
  const photos: DatasetSample[] = [];
  for (const [label, name] of PHOTO_NAMES.entries()) photos.push({ image: await decoder.decode(join(PHOTOS, name)), label });
  const files = new MemoryFileStore();
  let written = '';
  await train({
    expdir: 'run', backbone: 18, baseWidth: 8, inputSize: INPUT_SIZE, poolingExponent: 3, epochs: TRAIN_EPOCHS, batchSize: 16,
    repeatedAugmentations: 1, epochLenFactor: 1, learningRate: 0.0125, lrDropsEpochs: [], lrDropsFactors: [], classifWeight: 1,
    validateFirst: false, progress: false, workers: 0, seed: 3,
    data: { train: { length: 48, get: (i: number) => photos[i % photos.length]! }, classes: CLASSES },
    onCheckpoint: (e) => { written = e.path; },
  }, () => undefined, files);
  writeFileSync(checkpointPath, await files.readFile(written));
  // The query of the search test: the central part of the cat photo, re-encoded as PNG.
  const meta = await sharp(join(PHOTOS, 'chelsea.jpg')).metadata();
  extraFiles.set('chelsea-crop.png', await sharp(join(PHOTOS, 'chelsea.jpg'))
    .extract({ left: Math.round(meta.width! * 0.15), top: Math.round(meta.height! * 0.1), width: Math.round(meta.width! * 0.7), height: Math.round(meta.height! * 0.8) })
    .png().toBuffer());
  server = await startStaticServer({ webRoot: WEB, checkpoint: checkpointPath, fashionMnistRoot: FASHION_MNIST_DEFAULT_ROOT, port: 0, host: '127.0.0.1' });
  browser = await launchChromium(CHROMIUM_ARGS);
  page = await withTimeout(browser.newPage(), 10_000, 'opening a page');
  logTail = pageLog(page);
  // The photos, at /fixtures/<name>, as any file the page would fetch.
  await page.route('**/fixtures/*', (route) => {
    const name = decodeURIComponent(new URL(route.request().url()).pathname.split('/').pop()!);
    const body = extraFiles.get(name) ?? (PHOTO_NAMES.includes(name) ? readFileSync(join(PHOTOS, name)) : null);
    return body ? route.fulfill({ body, status: 200 }) : route.fulfill({ status: 404, body: 'not found' });
  });
  await withTimeout(page.goto(server.url, { timeout: 15_000 }), 20_000, 'loading the page');
  await withTimeout(page.waitForFunction(() => window.multigrainReady === true, undefined, { timeout: 30_000 }), 35_000, 'waiting for multigrainReady');
  const error = await page.evaluate(() => window.multigrainError);
  if (error) throw new Error(`the page reports: ${error}${logTail()}`);
});

test.after(async () => {
  if (browser) await withTimeout(browser.close(), 10_000, 'closing Chromium').catch((e: Error) => console.error(e.message));
  if (server) await server.close();
});

function thePage(): Page {
  if (!page) assert.unreachable('the page did not start');
  return page!;
}

/** Runs `fn` in the page with a time limit, the page's log in the error. */
async function inPage<T, A>(what: string, ms: number, fn: (arg: A) => Promise<T> | T, arg: A): Promise<T> {
  try {
    return await withTimeout(thePage().evaluate(fn as never, arg as never) as Promise<T>, ms, what);
  } catch (err) {
    throw new Error(`${(err as Error).message.split('\n')[0]}${logTail()}`);
  }
}

test('the test contract: window.multigrain, the adapter on the Status tab', async () => {
  const info = await inPage('reading the status', 5_000, () => ({
    hasLibrary: typeof window.multigrain?.init === 'function' && typeof window.multigrain?.MultiGrain === 'function',
    adapter: window.multigrain!.page.status?.name,
    limits: window.multigrain!.page.status?.limits,
    text: document.getElementById('status-message')!.textContent,
  }), null);
  assert.ok(info.hasLibrary, 'window.multigrain exposes the library');
  assert.match(info.adapter ?? '', /swiftshader/i);
  assert.is(info.limits?.maxComputeInvocationsPerWorkgroup, 256, 'SwiftShader limits shown');
  assert.match(info.text ?? '', /WebGPU is running on .*swiftshader/i);
});

test('decoding: the browser path matches sharp after the evaluation resize', async () => {
  const fromPage = await inPage('decoding the photos in the page', 30_000, async (names: string[]) => {
    const mg = window.multigrain!;
    const decoder = new mg.BrowserImageDecoder();
    const out = [];
    for (const name of names) {
      const img = await decoder.decode(`fixtures/${name}`);
      const sq = mg.validationSquare(img, 224);
      let bin = '';
      for (let i = 0; i < sq.data.length; i++) bin += String.fromCharCode(sq.data[i]!);
      out.push({ width: img.width, height: img.height, pixels: btoa(bin) });
    }
    return out;
  }, PHOTO_NAMES);
  const node = new NodeImageDecoder();
  const report: string[] = [];
  for (const [i, name] of PHOTO_NAMES.entries()) {
    const img = await node.decode(join(PHOTOS, name));
    assert.equal([fromPage[i]!.width, fromPage[i]!.height], [img.width, img.height], `${name}: decoded size`);
    const ref = validationSquare(img, 224).data;
    const got = Buffer.from(fromPage[i]!.pixels, 'base64');
    assert.is(got.length, ref.length, `${name}: 224x224x3 values`);
    let max = 0;
    let sum = 0;
    for (let k = 0; k < ref.length; k++) {
      const d = Math.abs(got[k]! - ref[k]!);
      max = Math.max(max, d);
      sum += d;
    }
    report.push(`${name} max ${max} mean ${(sum / ref.length).toFixed(4)}`);
    assert.ok(max <= DECODE_MAX_LEVELS, `${name}: browser vs sharp differ by up to ${max} levels after the resize (bound ${DECODE_MAX_LEVELS})`);
  }
  console.log(`\n  decode parity (browser vs sharp, 8-bit levels after resize 256 + crop 224): ${report.join('; ')}`);
});

test('a checkpoint made in Node: the page gives the top-5 of `multigrain classify` and the same embedding', async () => {
  const opened = await inPage('opening the served checkpoint', 30_000, async () => {
    const api = window.multigrain!.page;
    return api.openCheckpoint(api.served!.checkpoint!.replace(/^\//, ''));
  }, null);
  assert.equal(opened.classes, CLASSES, 'class names from the metadata');
  assert.is(opened.inputSize, INPUT_SIZE);
  const photo = 'astronaut.png'; // lossless: both paths decode the same pixels
  const inBrowser = await inPage('classifying in the page', 30_000, async (name: string) => {
    const api = window.multigrain!.page;
    const [top] = await api.classify([`fixtures/${name}`]);
    const out = await api.embed([`fixtures/${name}`]);
    return { top: top!, embedding: Array.from(out.data) };
  }, photo);
  // Node: the CLI's answer (multigrain classify --json) and the library's embedding
  const cli = spawnSync(process.execPath, [join(ROOT, 'dist/node/cli.js'), 'classify', join(PHOTOS, photo), '--checkpoint', checkpointPath, '--json'], { encoding: 'utf8', timeout: 120_000 });
  assert.is(cli.status, 0, cli.stderr);
  const top = (JSON.parse(cli.stdout) as { top: { name: string; probability: number }[] }[])[0]!.top;
  assert.is(top.length, 5);
  const m = await openCheckpoint(checkpointPath);
  const out = await embedInputs(m, [join(PHOTOS, photo)], { decoder: new NodeImageDecoder() });
  for (const t of m.model.stateTensors().values()) t.dispose();
  // the order is decided by the logits: their gaps (log-probability ratios) must exceed f32 noise
  const gaps = top.slice(1).map((c, r) => Math.log(top[r]!.probability / c.probability));
  assert.ok(Math.min(...gaps) > 1e-3, `the Node top-5 is unambiguous (logit gaps ${gaps.map((g) => g.toFixed(4)).join(', ')})`);
  assert.equal(inBrowser.top.map((c) => c.name), top.map((c) => c.name), 'same top-5 classes, same order');
  inBrowser.top.forEach((c, r) => assert.ok(Math.abs(c.probability - top[r]!.probability) < 1e-4, `probability of ${c.name}`));
  let diff = 0;
  let norm = 0;
  out.data.forEach((v, i) => { diff += (v - inBrowser.embedding[i]!) ** 2; norm += v * v; });
  const rel = Math.sqrt(diff / norm);
  console.log(`  page vs Node: top-5 ${top.map((c) => `${c.name} ${(100 * c.probability).toFixed(2)}%`).join(', ')}; embedding relative difference ${rel.toExponential(2)}`);
  assert.ok(rel < 1e-4, `embedding relative difference ${rel} (bound 1e-4)`);
});

test('search: a crop of a gallery photo finds that photo first; memory flat over 100 queries', async () => {
  const result = await inPage('searching in the page', 120_000, async (names: string[]) => {
    const api = window.multigrain!.page;
    await api.buildGallery(names.map((n) => `fixtures/${n}`), names);
    const hits = await api.search('fixtures/chelsea-crop.png', 4);
    const npy = api.galleryNpy();
    const stats: PoolStats[] = [];
    for (let q = 0; q < 100; q++) {
      await api.search(`fixtures/${names[q % names.length]}`, 1);
      if (q === 9 || q === 99) stats.push(api.poolStats());
    }
    return { hits, npyBytes: npy.length, dim: api.gallery!.dim, stats };
  }, PHOTO_NAMES);
  assert.is(result.hits[0]!.name, 'chelsea.jpg', `ranking: ${result.hits.map((h) => `${h.name} ${h.score.toFixed(4)}`).join(', ')}`);
  assert.ok(result.hits[0]!.score > result.hits[1]!.score, 'strictly first');
  assert.is(result.dim, 64, 'ResNet-18 of width 8 embeds in 8 x 8 = 64-d');
  assert.is(result.npyBytes, 128 + PHOTO_NAMES.length * result.dim * 4, '.npy: a 128-byte header + 4 x 64 float32');
  const [after10, after100] = result.stats as [PoolStats, PoolStats];
  console.log(`  pool after 10 / 100 queries: ${after10.bytesAllocated} / ${after100.bytesAllocated} bytes, ${after10.buffersCreated} / ${after100.buffersCreated} buffers created`);
  assert.is(after100.bytesAllocated, after10.bytesAllocated, 'no growth of the pool between query 10 and 100');
  assert.is(after100.buffersCreated, after10.buffersCreated, 'no buffer created between query 10 and 100');
  assert.is(after100.bytesInUse, after10.bytesInUse, 'nothing leaked');
});

test('training in the page lowers the loss; stop and resume; the checkpoint keeps the class names', async () => {
  const r = await inPage('training in the page', 150_000, async (names: string[]) => {
    const mg = window.multigrain!;
    const api = mg.page;
    // a picked folder as the directory picker gives it: photos/train/<class>/<file> (4 copies of
    // each photo) and photos/val/<class>/<file> (the photo)
    const files = [];
    for (const name of names) {
      const bytes = await (await fetch(`fixtures/${name}`)).arrayBuffer();
      const cls = name.split('.')[0];
      for (let k = 0; k < 4; k++) files.push({ name: `${k}-${name}`, relativePath: `photos/train/${cls}/${k}-${name}`, arrayBuffer: async () => bytes });
      files.push({ name, relativePath: `photos/val/${cls}/${name}`, arrayBuffer: async () => bytes });
    }
    const data = api.folderData(files);
    let stopAsked = false;
    const run = api.newTraining(data, { backbone: 18, baseWidth: 4, inputSize: 32, epochs: 3, batchSize: 8, learningRate: 0.05 }, {
      // stop in the second epoch: its steps are lost, the first epoch's checkpoint stays
      onStep: (s) => { if (!stopAsked && s.epoch > 1) { stopAsked = true; run.stop(); } },
    });
    const first = await run.run();
    const stepsAtStop = run.steps.length;
    const epochsAtStop = run.epochs.length;
    mg.page.setModel(first.model);
    const second = await run.run();
    api.setModel(second.model);
    const bytes = (await run.checkpointBytes())!;
    const ckpt = mg.decodeCheckpoint(bytes);
    const top = await api.classify([`fixtures/${names[0]}`], 2);
    return {
      classes: data.classes, stoppedFirst: first.stopped, stoppedSecond: second.stopped, stepsAtStop, epochsAtStop,
      steps: run.steps.map((s) => [s.epoch, s.loss]), epochs: run.epochs.map((e) => e.epoch), trainSize: data.train.length, valSize: data.val?.length,
      valLoss: run.history.map((e) => [e.epoch, e.val!.cross_entropy]),
      metaClasses: (ckpt.meta as { classes: string[] }).classes, topNames: top[0]!.map((c) => c.name),
    };
  }, PHOTO_NAMES);
  assert.equal(r.classes, ['astronaut', 'chelsea', 'coffee', 'rocket'], 'classes from the folder names');
  assert.ok(r.stoppedFirst, 'Stop ended the first run');
  assert.is(r.epochsAtStop, 1, 'one epoch finished before the stop');
  assert.not.ok(r.stoppedSecond, 'Resume ran to the end');
  assert.equal(r.epochs, [1, 2, 3], 'Resume went on from epoch 1\'s checkpoint: epochs 2 and 3 trained once each');
  assert.equal([r.trainSize, r.valSize], [16, 4], 'train/ and val/ subfolders');
  // Each step's loss is noisy (random crops and colour jitter, batches of 8), so the means of the
  // first and the last epoch's steps are compared. (The validation loss is no use here: after 12
  // steps batchnorm's running statistics are far from the batches' own, as in PyTorch.)
  const losses = r.steps.map(([, loss]) => loss!);
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  const first = mean(r.steps.filter(([e]) => e! <= 1).map(([, l]) => l!));
  const last = mean(r.steps.filter(([e]) => e! > 2).map(([, l]) => l!));
  console.log(`  training in the page: ${losses.length} steps, loss ${losses.map((l) => l.toFixed(3)).join(' ')}; mean of epoch 1 ${first.toFixed(3)}, epoch 3 ${last.toFixed(3)}`);
  assert.equal(r.valLoss.map(([e]) => e), [1, 2, 3], 'validated after each epoch');
  assert.ok(last < 0.85 * first, `the loss went down: mean of epoch 1's steps ${first.toFixed(4)}, of epoch 3's ${last.toFixed(4)}`);
  assert.equal(r.metaClasses, r.classes, 'the downloadable checkpoint records the class names');
  assert.is(r.topNames.length, 2);
});

/** The Train tab's note on the picked data, once it names the classes (or says what is wrong). */
async function trainDataNote(): Promise<{ text: string; className: string }> {
  const p = thePage();
  await withTimeout(p.waitForFunction(() => /classes|error/.test(document.getElementById('train-data-note')!.textContent + document.getElementById('train-data-note')!.className), undefined, { timeout: 20_000 }), 25_000, 'waiting for the picked data note');
  return p.evaluate(() => ({ text: document.getElementById('train-data-note')!.textContent ?? '', className: document.getElementById('train-data-note')!.className }));
}

test('a dropped folder: its entries are walked (every readEntries batch) into train/ and val/ classes', async () => {
  const r = await inPage('walking a dropped folder', 30_000, async (names: string[]) => {
    const api = window.multigrain!.page;
    let reads = 0;
    type Entry = { isFile: boolean; isDirectory: boolean; name: string; fullPath: string };
    // a fake FileSystemEntry tree, its callbacks asynchronous as the browser's, and its readers
    // giving 2 entries per call (Chrome gives 100) so that a walk reading only once misses files
    const fileEntry = (path: string, bytes: ArrayBuffer): Entry => ({
      isFile: true, isDirectory: false, name: path.split('/').pop()!, fullPath: `/${path}`,
      file: (ok: (f: File) => void) => setTimeout(() => ok(new File([bytes], path.split('/').pop()!)), 0),
    } as Entry);
    const dirEntry = (path: string, children: Entry[]): Entry => ({
      isFile: false, isDirectory: true, name: path.split('/').pop()!, fullPath: `/${path}`,
      createReader: () => {
        let at = 0;
        return { readEntries: (ok: (e: Entry[]) => void) => { reads++; const batch = children.slice(at, at + 2); at += batch.length; setTimeout(() => ok(batch), 0); } };
      },
    } as Entry);
    const photos = new Map<string, ArrayBuffer>();
    for (const name of names) photos.set(name, await (await fetch(`fixtures/${name}`)).arrayBuffer());
    // an entry's fullPath starts at the drop: `base` is 'photos/' when the photos folder is dropped
    const splits = (base: string): { train: Entry[]; val: Entry[] } => ({
      train: names.map((name) => dirEntry(`${base}train/${name.split('.')[0]}`, [0, 1, 2].map((k) => fileEntry(`${base}train/${name.split('.')[0]}/${k}-${name}`, photos.get(name)!)))),
      val: names.map((name) => dirEntry(`${base}val/${name.split('.')[0]}`, [fileEntry(`${base}val/${name.split('.')[0]}/${name}`, photos.get(name)!)])),
    });
    const { train, val } = splits('photos/');
    const readme = fileEntry('photos/README.txt', new TextEncoder().encode('not an image').buffer as ArrayBuffer);
    const root = dirEntry('photos', [dirEntry('photos/train', train), dirEntry('photos/val', val), readme]);
    const files = await api.filesOfEntries([root as never]);
    const readsOfWalk = reads;
    const data = api.folderData(files);
    const sample = await data.train.get(data.train.length - 1);
    // train/ and val/ selected and dropped side by side: the contents of one folder
    const loose = splits('');
    const sideBySide = api.folderData(await api.filesOfEntries([dirEntry('train', loose.train), dirEntry('val', loose.val)] as never[]));
    // the same tree dropped on the Train tab's zone, as a drop event gives it
    const drop = new Event('drop', { bubbles: true, cancelable: true });
    Object.defineProperty(drop, 'dataTransfer', { value: { items: [{ kind: 'file', webkitGetAsEntry: () => root }], files: [] } });
    document.getElementById('train-drop')!.dispatchEvent(drop);
    let failure = '';
    const broken = { isFile: true, isDirectory: false, name: 'x.jpg', fullPath: '/photos/x.jpg', file: (_ok: unknown, fail: (e: unknown) => void) => fail(new DOMException('gone', 'NotFoundError')) };
    await api.filesOfEntries([broken as never]).catch((e: Error) => { failure = e.message; });
    return {
      paths: files.map((f) => f.relativePath), reads: readsOfWalk, classes: data.classes, sizes: [data.train.length, data.val?.length],
      sideBySide: { classes: sideBySide.classes, sizes: [sideBySide.train.length, sideBySide.val?.length] },
      sample: { path: (sample as { path?: string }).path, label: sample.label, size: [sample.image.width, sample.image.height] }, failure,
    };
  }, PHOTO_NAMES);
  const classes = PHOTO_NAMES.map((n) => n.split('.')[0]!).sort();
  assert.is(r.paths.length, PHOTO_NAMES.length * 4 + 1, `every file below the folder: ${r.paths.join(', ')}`);
  assert.ok(r.paths.includes('photos/train/rocket/2-rocket.jpg') && r.paths.includes('photos/val/coffee/coffee.webp') && r.paths.includes('photos/README.txt'), 'paths from the drop\'s root');
  // each folder is read until an empty batch: ceil(n / 2) + 1 calls
  const expectedReads = (2 + 1) + (2 + 1) + (2 + 1) + PHOTO_NAMES.length * ((2 + 1) + (1 + 1));
  assert.is(r.reads, expectedReads, 'readEntries called until it gives nothing');
  assert.equal(r.classes, classes, 'classes from the folder names');
  assert.equal(r.sizes, [PHOTO_NAMES.length * 3, PHOTO_NAMES.length], 'train/ and val/ split, README.txt left out');
  assert.equal(r.sideBySide, { classes, sizes: r.sizes }, 'train/ and val/ dropped together read as one folder');
  const node = await new NodeImageDecoder().decode(join(PHOTOS, 'rocket.jpg'));
  assert.equal(r.sample, { path: 'rocket/2-rocket.jpg', label: classes.indexOf('rocket'), size: [node.width, node.height] }, 'the last training item decodes as its photo');
  assert.match(r.failure, /\/photos\/x\.jpg/, `a file that can't be read is named: ${r.failure}`);
  const note = await trainDataNote();
  const folderChosen = await thePage().evaluate(() => (document.querySelector('input[name=train-data][value=folder]') as HTMLInputElement).checked);
  assert.ok(folderChosen, 'a drop chooses the folder as the data');
  assert.match(note.text, new RegExp(`^${PHOTO_NAMES.length * 4} image files picked: 4 classes \\(${classes.join(', ')}\\), 12 training, 4 validation images$`));
});

test('a folder picked with the directory picker, and one without class folders', async () => {
  const dir = scratchDir('web-pick');
  for (const name of PHOTO_NAMES) {
    const cls = name.split('.')[0]!;
    for (const split of ['train', 'val']) mkdirSync(join(dir, 'photos', split, cls), { recursive: true });
    for (const k of [0, 1]) copyFileSync(join(PHOTOS, name), join(dir, 'photos', 'train', cls, `${k}-${name}`));
    copyFileSync(join(PHOTOS, name), join(dir, 'photos', 'val', cls, name));
  }
  const p = thePage();
  await p.evaluate(() => { document.getElementById('train-data-note')!.textContent = ''; });
  await withTimeout(p.setInputFiles('#train-folder', join(dir, 'photos')), 15_000, 'picking the folder');
  const note = await trainDataNote();
  assert.is(note.className, '', note.text);
  assert.is(note.text, `${PHOTO_NAMES.length * 3} image files picked: 4 classes (astronaut, chelsea, coffee, rocket), 8 training, 4 validation images`);
  // loose images: no class to train on, said at once
  const flat = join(dir, 'flat');
  mkdirSync(flat);
  for (const name of PHOTO_NAMES) copyFileSync(join(PHOTOS, name), join(flat, name));
  await p.evaluate(() => { document.getElementById('train-data-note')!.textContent = ''; });
  await withTimeout(p.setInputFiles('#train-folder', flat), 15_000, 'picking the flat folder');
  const bad = await trainDataNote();
  assert.is(bad.className, 'error');
  assert.match(bad.text, /holds 0 class folder\(s\): training needs class subfolders/);
});

test('Train tab on Fashion-MNIST from the server: progress, curves, Download gives a checkpoint Node opens', async () => {
  const p = thePage();
  await p.click('#tabs button[data-tab=train]');
  await p.check('input[name=train-data][value=fashion-mnist]');
  for (const [id, value] of [['opt-width', '4'], ['opt-size', '32'], ['opt-epochs', '1'], ['opt-batch', '16'], ['opt-subset', '64']] as const) await p.fill(`#${id}`, value);
  await p.click('#train-start');
  try {
    await withTimeout(p.waitForFunction(() => /done|failed/.test(document.getElementById('train-progress')!.textContent ?? ''), undefined, { timeout: 120_000 }), 125_000, 'training on Fashion-MNIST');
  } catch (err) {
    throw new Error(`${(err as Error).message}; progress: ${await p.textContent('#train-progress')}${logTail()}`);
  }
  const seen = await p.evaluate(() => ({
    progress: document.getElementById('train-progress')!.textContent ?? '',
    charts: Array.from(document.querySelectorAll('#train-curves svg'), (svg) => ({ lines: svg.querySelectorAll('polyline').length, points: Array.from(svg.querySelectorAll('polyline'), (l) => l.getAttribute('points')!.split(' ').length) })),
    steps: window.multigrain!.page.training!.steps.length,
    saveEnabled: !(document.getElementById('train-save') as HTMLButtonElement).disabled,
  }));
  assert.match(seen.progress, /^Fashion-MNIST: epoch 1\.00 \/ 1, loss [\d.]+, train top-1 [\d.]+%, val top-1 [\d.]+% — done/);
  const steps = (64 * TRAIN_DEFAULTS.epochLenFactor) / 16;
  assert.is(seen.steps, steps, `64 images x the epoch length factor ${TRAIN_DEFAULTS.epochLenFactor}, in batches of 16`);
  assert.is(seen.charts.length, 2, 'loss and accuracy charts');
  assert.equal(seen.charts[0], { lines: 1, points: [steps] }, 'the loss curve: one point per step');
  assert.equal(seen.charts[1]!.points, [steps, 2], 'train top-1 per step, val top-1 before and after the epoch');
  assert.ok(seen.saveEnabled, 'Download enabled');
  const [dl] = await withTimeout(Promise.all([p.waitForEvent('download', { timeout: 15_000 }), p.click('#train-save')]), 20_000, 'downloading the checkpoint');
  assert.is(dl.suggestedFilename(), 'multigrain_web.safetensors');
  const bytes = readFileSync((await withTimeout(dl.path(), 15_000, 'saving the download'))!);
  const opened = await openMultiGrain(new Uint8Array(bytes));
  for (const t of opened.model.stateTensors().values()) t.dispose();
  assert.equal(opened.classes, FASHION_MNIST_CLASSES, 'the class names in the metadata');
  assert.equal([opened.architecture.backbone, opened.architecture.baseWidth, opened.architecture.numClasses], [18, 4, 10], 'the architecture trained');
  console.log(`  Fashion-MNIST in the page: ${seen.progress}; download ${bytes.length} bytes`);
});

test('keyboard: arrow keys, Home and End move between the tabs; Enter on a drop zone opens its picker', async () => {
  const p = thePage();
  const selected = (): Promise<{ tab: string; focused: string; visible: string[]; tabbable: string[] }> => p.evaluate(() => ({
    tab: document.querySelector('#tabs [aria-selected=true]')!.id,
    focused: document.activeElement?.id ?? '',
    visible: Array.from(document.querySelectorAll<HTMLElement>('[role=tabpanel]')).filter((s) => s.offsetParent !== null).map((s) => s.id),
    tabbable: Array.from(document.querySelectorAll<HTMLElement>('#tabs [role=tab]')).filter((b) => b.tabIndex === 0).map((b) => b.id),
  }));
  await p.click('#tab-status');
  const steps: [string, string][] = [['ArrowRight', 'train'], ['ArrowRight', 'classify'], ['Home', 'status'], ['ArrowLeft', 'search'], ['End', 'search'], ['ArrowLeft', 'classify']];
  for (const [key, tab] of steps) {
    await p.keyboard.press(key);
    assert.equal(await selected(), { tab: `tab-${tab}`, focused: `tab-${tab}`, visible: [tab], tabbable: [`tab-${tab}`] }, `after ${key}`);
  }
  // one listener for the whole test: a waitForEvent per press turns the interception on too late at times
  const chosen: string[] = [];
  const onChooser = (c: FileChooser): void => { void c.element().getAttribute('id').then((id) => chosen.push(id ?? '?')); };
  p.on('filechooser', onChooser);
  try {
    await p.evaluate(() => 0);
    for (const [zone, input] of [['classify-drop', 'classify-files'], ['gallery-drop', 'gallery-files'], ['query-drop', 'query-file']] as const) {
      if (zone === 'gallery-drop') await p.click('#tab-search');
      await p.focus(`#${zone}`);
      const before = chosen.length;
      await p.keyboard.press('Enter');
      for (let t = 0; t < 100 && chosen.length === before; t++) await new Promise((r) => setTimeout(r, 50));
      assert.equal(chosen.slice(before), [input], `Enter on #${zone} opens #${input}`);
    }
  } finally {
    p.off('filechooser', onChooser);
  }
});

test('bad files: an image that is not one, and checkpoints that are not MultiGrain, get a message naming them', async () => {
  const p = thePage();
  await p.click('#tab-classify');
  const modelBefore = await p.textContent('#model-line');
  const message = async (what: string): Promise<string> => {
    await withTimeout(p.waitForFunction(() => document.querySelector('#classify-out .error') !== null, undefined, { timeout: 20_000 }), 25_000, what);
    return (await p.textContent('#classify-out .error'))!;
  };
  await p.setInputFiles('#classify-files', { name: 'holiday.jpg', mimeType: 'image/jpeg', buffer: Buffer.from('these are notes, not a JPEG') });
  const notImage = await message('classifying a text file named .jpg');
  const notCheckpoints: Record<string, Buffer> = {
    'notes.safetensors': Buffer.from('plain text, not safetensors'),
    'other-model.safetensors': Buffer.from(writeSafetensors([['encoder.weight', { dtype: 'f32', shape: [2, 2], data: new Float32Array(4) }]])),
    'notes.pth': Buffer.from('plain text, not a PyTorch zip'),
  };
  const seen: Record<string, string> = {};
  for (const [name, buffer] of Object.entries(notCheckpoints)) {
    await p.evaluate(() => document.getElementById('classify-out')!.replaceChildren());
    await p.setInputFiles('#ckpt-file', { name, mimeType: 'application/octet-stream', buffer });
    seen[name] = await message(`opening ${name}`);
  }
  console.log(`  bad files: ${notImage} | ${Object.values(seen).join(' | ')}`);
  assert.match(notImage, /holiday\.jpg/);
  assert.match(notImage, /not .*image|corrupt or unsupported image/i);
  for (const [name, text] of Object.entries(seen)) {
    assert.match(text, /^could not open the checkpoint: /, name);
    assert.ok(text.includes(name), `${name}: the message names the file: ${text}`);
  }
  assert.is(await p.textContent('#model-line'), modelBefore, 'the current model stays');
});

test('without WebGPU the page says so and what to do', async () => {
  const plain = await launchChromium(CHROMIUM_BASE_ARGS);
  try {
    const p = await withTimeout(plain.newPage(), 10_000, 'opening a page');
    await withTimeout(p.goto(server!.url, { timeout: 15_000 }), 20_000, 'loading the page');
    await withTimeout(p.waitForFunction(() => window.multigrainReady === true, undefined, { timeout: 20_000 }), 25_000, 'waiting for multigrainReady');
    const seen = await withTimeout(p.evaluate(() => ({
      error: window.multigrainError,
      text: document.getElementById('status-message')!.textContent,
      className: document.getElementById('status-message')!.className,
      expected: window.multigrain!.NO_WEBGPU_MESSAGE,
    })), 5_000, 'reading the message');
    assert.ok(seen.error?.startsWith(seen.expected), `multigrainError: ${seen.error}`);
    assert.is(seen.text, seen.error, 'the Status tab shows it');
    assert.is(seen.className, 'error');
    assert.match(seen.text ?? '', /Chrome or Edge 113/);
  } finally {
    await withTimeout(plain.close(), 10_000, 'closing Chromium').catch((e: Error) => console.error(e.message));
  }
});

test.run();
