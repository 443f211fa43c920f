// Training-loader throughput: decode (sharp) + "full" augmentation (RandomResizedCrop 224,
// flip, ColorJitter, lighting, clamp, normalize) + NCHW batch assembly + upload of each batch
// (images and labels) as engine tensors (--no-upload: host batches only), from JPEGs of
// 500x375 made in a temp folder from the committed test photos. One JSON line per run
// ({name, workers, images_per_s, cpu_ms_per_image, load_avg_1m, ...}), then a small table.
// Usage: node bench/data.js [--images 384] [--batch 32] [--workers 1,2] [--recipe full] [--no-upload]
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { DataLoader, ImageListDataset, RASampler, init, shutdown, tensor, runtime } from '../dist/node/index.js';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const images = Number(opt('images', 384));
const batchSize = Number(opt('batch', 32));
const workerCounts = opt('workers', '1,2').split(',').map(Number);
const recipe = opt('recipe', 'full');
const upload = !args.includes('--no-upload');
const distinct = 48;
if (upload) await init();

const dir = mkdtempSync(join(tmpdir(), 'mg-bench-data-'));
try {
  const photos = ['chelsea.jpg', 'rocket.jpg', 'coffee.webp', 'astronaut.png'].map((f) => join('kernels-test/fixtures/images', f));
  const names = [];
  for (let i = 0; i < distinct; i++) {
    const name = `img${String(i).padStart(3, '0')}.jpg`;
    let p = sharp(photos[i % photos.length]).resize(500, 375, { fit: 'cover', position: ['centre', 'north', 'south', 'east', 'west'][i % 5] });
    if (i % 2) p = p.flop();
    await p.modulate({ brightness: 0.8 + (i % 5) * 0.1, hue: (i * 37) % 360 }).jpeg({ quality: 90 }).toFile(join(dir, name));
    names.push(name);
  }
  const dataset = ImageListDataset.fromNames(dir, names);
  const results = [];
  for (const workers of workerCounts) {
    const sampler = new RASampler(dataset.length, { batchSize, repetitions: 1, lengthFactor: (images + batchSize) / dataset.length, seed: 0 });
    const loader = new DataLoader({ dataset, transform: { kind: 'train', recipe, size: 224 }, workers, seed: 0 });
    let count = 0;
    let t0 = 0;
    let cpu0 = process.cpuUsage();
    let first = true;
    for await (const batch of loader.trainEpoch(sampler, 0)) {
      if (first) { first = false; t0 = performance.now(); cpu0 = process.cpuUsage(); continue; } // warm-up batch: worker start, sharp load
      count += batch.shape[0];
      if (upload) {
        const images = tensor(batch.images, batch.shape);
        const labels = tensor(batch.labels, [batch.shape[0]], 'i32');
        await runtime().sync(); // the copy has reached the GPU
        images.dispose();
        labels.dispose();
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0); // all threads of the process (workers included)
    const cpuMs = (cpu.user + cpu.system) / 1000 / count;
    await loader.close();
    const r = { name: `loader_${recipe}_224_jpeg500x375${upload ? '_upload' : ''}`, workers, images_per_s: +(count / seconds).toFixed(1), images: count, batch: batchSize, seconds: +seconds.toFixed(2), cpu_ms_per_image: +cpuMs.toFixed(2), load_avg_1m: +loadavg()[0].toFixed(2) };
    results.push(r);
    console.log(JSON.stringify(r));
  }
  console.log('\nworkers | images/s | images | seconds | CPU ms/image | load avg');
  console.log('--------|----------|--------|---------|--------------|---------');
  for (const r of results) {
    console.log(`${String(r.workers).padStart(7)} | ${String(r.images_per_s).padStart(8)} | ${String(r.images).padStart(6)} | ${String(r.seconds).padStart(7)} | ${String(r.cpu_ms_per_image).padStart(12)} | ${String(r.load_avg_1m).padStart(8)}`);
  }
  console.log('(CPU ms/image counts every thread; the machine has other load when "load avg" exceeds the core count.)');
} finally {
  rmSync(dir, { recursive: true, force: true });
  if (upload) await shutdown();
}
