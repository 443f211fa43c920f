// Loader throughput against torchvision's, side by side in one run, on the same JPEGs.
//
// Training path: decode + the "full" recipe (RandomResizedCrop 224, flip, ColorJitter,
// lighting, clamp, normalize) + NCHW batch assembly + upload of each batch (images and labels)
// as engine tensors (--no-upload: host batches only), batch 32, over 500x375 JPEGs made in a
// temp folder from the committed test photos; with upload, a second row per worker count with
// gpuAugment (the workers stop at the uint8 crop, the colour stages run in the data/augment
// kernel: its upload and kernel timed). The peer (tools/torchvision_data_peer.py, run
// with /usr/bin/python3 where torchvision imports) runs PIL decode, RandomResizedCrop(224),
// RandomHorizontalFlip, ColorJitter(0.4, 0.4, 0.4), ToTensor, Normalize in a DataLoader, batch
// 32, over the same files, each of its rows right before ours (the host's load drifts);
// without torchvision a line says the peer was skipped.
// Evaluation path: decode + resize of the longer side to 500 + normalize (the "rect" mode of
// the evaluation), batch 1, over 1024x768 JPEGs; the embedding is left out on both sides (the
// peer has no MultiGrain model; bench/resnet.js times ours).
// Then the CPU ms per image of each stage, one image at a time in this thread (peer: in its
// process), for the crop-on-decode path and the whole-image path (cropOnDecode: false).
// One JSON line per row, then tables. Absolute figures move with the host's load: compare
// the ratios of one run.
// Usage: node bench/data.js [--images 768] [--batch 32] [--workers 1,2] [--recipe full]
//        [--no-upload] [--no-peer] [--eval-images 64] [--stage-images 96] [--json rows.json]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { writeJsonAtomic } from './json-out.js';
import {
  DataLoader, DataRng, ImageListDataset, NodeImageDecoder, RASampler, applyColorJitter, colorJitterParams, flipImageHorizontal, init,
  jitterToNormalizedChw, lightingOffset, randomResizedCropBox, resizeImageBilinear, rgbToNormalizedChw, runtime, shutdown, tensor, batchImages,
} from '../dist/node/index.js';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
// Long enough that each worker thread's JIT warm-up (its first hundred or so images) does not
// weigh on the figure: training runs are steady state (docs/performance.md).
const images = Number(opt('images', 768));
const batchSize = Number(opt('batch', 32));
const workerCounts = opt('workers', '1,2').split(',').map(Number);
const recipe = opt('recipe', 'full');
const upload = !args.includes('--no-upload');
const evalImages = Number(opt('eval-images', 64));
const stageImages = Number(opt('stage-images', 96));
const jsonPath = opt('json', undefined);
const PEER = 'tools/torchvision_data_peer.py';
const PYTHON = '/usr/bin/python3';
if (upload) await init();

/** JPEGs made from the committed photos: `count` files of width x height. */
async function makeJpegs(dir, count, width, height) {
  mkdirSync(dir, { recursive: true });
  const photos = ['chelsea.jpg', 'rocket.jpg', 'coffee.webp', 'astronaut.png'].map((f) => join('kernels-test/fixtures/images', f));
  const names = [];
  for (let i = 0; i < count; i++) {
    const name = `img${String(i).padStart(3, '0')}.jpg`;
    let p = sharp(photos[i % photos.length]).resize(width, height, { fit: 'cover', position: ['centre', 'north', 'south', 'east', 'west'][i % 5] });
    if (i % 2) p = p.flop();
    await p.modulate({ brightness: 0.8 + (i % 5) * 0.1, hue: (i * 37) % 360 }).jpeg({ quality: 90 }).toFile(join(dir, name));
    names.push(name);
  }
  return names;
}

/** images/s of `batches` (an async iterable of host batches) after one warm-up batch; upload ms per image where asked. */
async function rate(batches, doUpload) {
  let count = 0, t0 = 0, first = true, uploadMs = 0;
  let cpu0 = process.cpuUsage();
  for await (const batch of batches) {
    if (first) { first = false; t0 = performance.now(); cpu0 = process.cpuUsage(); continue; } // worker start, sharp load
    count += batch.shape[0];
    if (doUpload) {
      const u0 = performance.now();
      const images = batchImages(batch); // the float upload, or the uint8 upload + the augmentation kernel
      const labels = tensor(batch.labels, [batch.shape[0]], 'i32');
      await runtime().sync(); // the copy (and the kernel) reached the GPU
      uploadMs += performance.now() - u0;
      images.dispose();
      labels.dispose();
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0); // every thread of the process, workers included
  return {
    images_per_s: +(count / seconds).toFixed(1), images: count, seconds: +seconds.toFixed(2),
    cpu_ms_per_image: +((cpu.user + cpu.system) / 1000 / count).toFixed(2),
    ...(doUpload ? { upload_ms_per_image: +(uploadMs / count).toFixed(2) } : {}),
  };
}

/** {@link rate} of one training epoch of `loader` (with upload where asked), then the loader closed. */
async function epochRate(loader, sampler) {
  try {
    return await rate(loader.trainEpoch(sampler, 0), upload);
  } finally {
    await loader.close();
  }
}

/** CPU ms per image of each stage, one image at a time in this thread. */
async function stages(dir, names, cropOnDecode) {
  const decoder = new NodeImageDecoder({ concurrency: 1 });
  const t = { decode: 0, crop_resize: 0, flip: 0, augment: 0, to_tensor: 0 };
  const now = () => { const c = process.cpuUsage(); return (c.user + c.system) / 1000; };
  const warm = 32; // libvips builds its operations on first use: a cold first pass costs twice as much
  for (let k = 0; k < stageImages + warm; k++) {
    const rng = DataRng.derive(0, 0, k);
    const file = join(dir, names[k % names.length]);
    const a = now();
    let x, b;
    if (cropOnDecode) { // decode and crop are one step: counted as decode
      x = await decoder.decodeCropResized(file, (w, h) => randomResizedCropBox(w, h, rng), 224, 224, { autoOrient: false });
      b = now();
    } else {
      const img = await decoder.decode(file, { autoOrient: false });
      b = now();
      x = resizeImageBilinear(img, 224, 224, randomResizedCropBox(img.width, img.height, rng));
    }
    const c = now();
    if (rng.random() < 0.5) x = flipImageHorizontal(x);
    const d = now();
    const params = colorJitterParams(rng, { brightness: 0.3, contrast: 0.3, saturation: 0.3 });
    const alpha = [rng.normal(0, 0.1), rng.normal(0, 0.1), rng.normal(0, 0.1)];
    const tensorOptions = { offset: lightingOffset(alpha), scale: 1 / 1.1, clamp: true };
    let e, f;
    if (cropOnDecode) { // jitter, lighting and to-tensor are one pass: counted as augment
      jitterToNormalizedChw(x, params, tensorOptions);
      e = f = now();
    } else {
      x = applyColorJitter(x, params);
      e = now();
      rgbToNormalizedChw(x, tensorOptions);
      f = now();
    }
    if (k >= warm) {
      t.decode += b - a; t.crop_resize += c - b; t.flip += d - c; t.augment += e - d; t.to_tensor += f - e;
    }
  }
  for (const k of Object.keys(t)) t[k] = +(t[k] / stageImages).toFixed(2);
  return t;
}

/** Whether the peer can run (else the reason is printed once). */
function peerAvailable() {
  const probe = spawnSync(PYTHON, ['-c', 'import torchvision, PIL'], { encoding: 'utf8' });
  if (probe.status === 0) return true;
  console.log(`torchvision peer skipped: ${PYTHON} cannot import torchvision and PIL (Debian: apt install python3-torchvision python3-pil)`);
  return false;
}

/** One part of the peer's run (its JSON): run right before our row of the same kind, so both see the same load. */
function runPeer(trainDir, evalDir, part) {
  const res = spawnSync(PYTHON, [PEER, '--dir', trainDir, '--eval-dir', evalDir, '--images', String(images), '--batch', String(batchSize),
    '--workers', part.workers ?? '', '--eval-workers', part.evalWorkers ?? '', '--eval-images', String(evalImages),
    '--stage-images', String(part.stages ? stageImages : 0)], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (res.status !== 0) throw new Error(`${PEER} failed (exit ${res.status}): ${res.stderr}`);
  return JSON.parse(res.stdout.trim().split('\n').pop());
}

const root = mkdtempSync(join(tmpdir(), 'mg-bench-data-'));
try {
  const trainDir = join(root, 'train');
  const evalDir = join(root, 'eval');
  const names = await makeJpegs(trainDir, 48, 500, 375);
  const evalNames = await makeJpegs(evalDir, 16, 1024, 768);
  const withPeer = !args.includes('--no-peer') && peerAvailable();
  const dataset = ImageListDataset.fromNames(trainDir, names);
  const evalSet = ImageListDataset.fromNames(evalDir, evalNames);
  const rows = [];
  for (const workers of workerCounts) {
    const p = withPeer ? runPeer(trainDir, evalDir, { workers: String(workers) }).train[0] : undefined;
    const sampler = new RASampler(dataset.length, { batchSize, repetitions: 1, lengthFactor: (images + batchSize) / dataset.length, seed: 0 });
    // gpuAugment first (the training default, right after the peer), then the CPU path: the
    // workers stop at the uint8 crop and the colour stages run in the data/augment kernel.
    const spec = { kind: 'train', recipe, size: 224 };
    const g = upload ? await epochRate(new DataLoader({ dataset, transform: spec, workers, seed: 0, gpuAugment: true }), sampler) : null;
    const r = await epochRate(new DataLoader({ dataset, transform: spec, workers, seed: 0 }), sampler);
    const peerCols = (x) => (p ? { torchvision_images_per_s: p.images_per_s, torchvision_cpu_ms_per_image: p.cpu_ms_per_image, ratio: +(x.images_per_s / p.images_per_s).toFixed(2) } : {});
    const load = () => ({ load_avg_1m: +loadavg()[0].toFixed(2) });
    if (g) rows.push({ name: `loader_${recipe}_224_jpeg500x375_gpu_augment_upload`, workers, ...g, vs_cpu_path: +(g.images_per_s / r.images_per_s).toFixed(2), ...peerCols(g), ...load() });
    rows.push({ name: `loader_${recipe}_224_jpeg500x375${upload ? '_upload' : ''}`, workers, ...r, ...peerCols(r), ...load() });
    for (const row of rows.slice(g ? -2 : -1)) console.log(JSON.stringify(row));
  }
  const evalRows = [];
  for (const workers of evalImages > 0 ? workerCounts : []) {
    const p = withPeer ? runPeer(trainDir, evalDir, { evalWorkers: String(workers) }).eval[0] : undefined;
    const loader = new DataLoader({ dataset: evalSet, transform: { kind: 'val', mode: 'rect', size: 500 }, workers });
    const indices = Int32Array.from({ length: evalImages + 1 }, (_, i) => i % evalSet.length);
    const r = await rate(loader.evaluation({ batchSize: 1, indices }), false);
    await loader.close();
    const row = { name: 'eval_rect500_jpeg1024x768_no_embed', workers, ...r, ...(p ? { torchvision_images_per_s: p.images_per_s, torchvision_cpu_ms_per_image: p.cpu_ms_per_image, ratio: +(r.images_per_s / p.images_per_s).toFixed(2) } : {}), load_avg_1m: +loadavg()[0].toFixed(2) };
    evalRows.push(row);
    console.log(JSON.stringify(row));
  }
  const ours = stageImages > 0 ? await stages(trainDir, names, true) : null;
  const whole = stageImages > 0 ? await stages(trainDir, names, false) : null;
  const peerStages = withPeer && stageImages > 0 ? runPeer(trainDir, evalDir, { stages: true }).stages_ms : null;
  const stageRow = { name: 'stage_cpu_ms_per_image', crop_on_decode: ours, whole_image: whole, ...(peerStages ? { torchvision: peerStages } : {}) };
  console.log(JSON.stringify(stageRow));
  if (jsonPath) writeJsonAtomic(jsonPath, { training: rows, evaluation: evalRows, stages: stageRow });

  const table = (title, list) => {
    console.log(`\n${title}\npath        | workers | ours img/s | torchvision img/s | ratio | CPU ms/image ours | torchvision | load avg`);
    console.log('------------|---------|------------|-------------------|-------|-------------------|-------------|---------');
    for (const r of list) {
      console.log(`${(r.name.includes('gpu_augment') ? 'gpu augment' : 'cpu').padEnd(11)} | ${String(r.workers).padStart(7)} | ${String(r.images_per_s).padStart(10)} | ${String(r.torchvision_images_per_s ?? '-').padStart(17)} | ${String(r.ratio ?? '-').padStart(5)} | ${String(r.cpu_ms_per_image).padStart(17)} | ${String(r.torchvision_cpu_ms_per_image ?? '-').padStart(11)} | ${String(r.load_avg_1m).padStart(8)}`);
    }
  };
  table(`training (${recipe} recipe, 224, batch ${batchSize}${upload ? ', upload included' : ''})`, rows);
  if (evalRows.length > 0) table('evaluation (decode, longer side to 500, normalize; no embedding)', evalRows);
  if (ours && whole) {
    console.log('\nCPU ms per image and stage (one image at a time, one thread)');
    const cols = ['decode', 'crop_resize', 'flip', 'augment', 'to_tensor'];
    console.log(`${'path'.padEnd(26)} | ${cols.map((c) => c.padStart(11)).join(' | ')}`);
    const printStages = (name, s) => console.log(`${name.padEnd(26)} | ${cols.map((c) => String(s[c]).padStart(11)).join(' | ')}`);
    printStages('ours, crop on decode', ours);
    printStages('ours, whole image', whole);
    if (peerStages) printStages('torchvision + PIL', peerStages);
  }
  if (upload) console.log(`upload (ms per image, in the loader runs; gpu augment: uint8 upload + kernel): ${rows.map((r) => `${r.name.includes('gpu_augment') ? 'gpu augment' : 'cpu'} ${r.workers} workers ${r.upload_ms_per_image}`).join(', ')}`);
  console.log('(crop on decode: "decode" includes the crop and resize, "augment" the jitter, lighting and to-tensor pass.)');
  console.log('(CPU ms/image counts every thread; the machine has other load when "load avg" exceeds the core count.)');
} finally {
  rmSync(root, { recursive: true, force: true });
  if (upload) await shutdown();
}
