// The page's speed check beside Node's: ResNet-18 and ResNet-50 MultiGrain inference at 224,
// batch 1, ms per image (median of the timed passes after a warm-up). The page runs
// `multigrain.benchmark()` (src/web/benchmark.ts) in headless Chromium (Debian's
// /usr/bin/chromium, WebGPU on its SwiftShader adapter) served by `multigrain serve`; Node runs
// the same passes through Dawn (lavapipe on a machine without a GPU). Prints one JSON line per
// case, then a table.
//
//   node bench/page.js [--repeats 3] [--models 18,50]
//
// Run `node tools/build.mjs` first.
import { parseArgs } from 'node:util';
import { spawn } from 'node:child_process';
import * as mg from '../dist/node/index.js';

const { values: flags } = parseArgs({ options: { repeats: { type: 'string' }, models: { type: 'string' } } });
const repeats = Number(flags.repeats ?? 3);
const depths = (flags.models ?? '18,50').split(',').map(Number);
const SIZE = 224;

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };

/** The same passes as src/web/benchmark.ts, in Node. */
async function nodeBenchmark() {
  const rt = await mg.init();
  const rows = [];
  for (const depth of depths) {
    const model = new mg.MultiGrain({ backbone: depth, numClasses: 1000, seed: 1 });
    model.eval();
    const rng = new mg.DataRng(7);
    const x = mg.tensor(Float32Array.from({ length: 3 * SIZE * SIZE }, () => rng.normal()), [1, 3, SIZE, SIZE]);
    const pass = async () => {
      const t0 = performance.now();
      const e = mg.tidy(() => mg.noGrad(() => mg.keep(model.forward(x).normalizedEmbedding)));
      await e.toArray();
      e.dispose();
      return performance.now() - t0;
    };
    await pass();
    const times = [];
    for (let i = 0; i < repeats; i++) times.push(await pass());
    rows.push({ model: `resnet${depth}`, msPerImage: median(times), times });
    x.dispose();
    for (const t of model.stateTensors().values()) t.dispose();
  }
  const info = rt.gpu.adapterInfo;
  return { adapter: [info.vendor, info.architecture].filter(Boolean).join(' ') || info.description, rows };
}

async function withTimeout(promise, ms, what) {
  let timer;
  try {
    return await Promise.race([promise, new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms); })]);
  } finally {
    clearTimeout(timer);
  }
}

async function pageBenchmark() {
  const server = spawn(process.execPath, ['dist/node/cli.js', 'serve', '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let browser;
  try {
    const url = await withTimeout(new Promise((resolve, reject) => {
      let out = '';
      server.stdout.on('data', (c) => { out += c; const m = /MultiGrain page: (\S+)/.exec(out); if (m) resolve(m[1]); });
      server.on('exit', (code) => reject(new Error(`multigrain serve exited with ${code}`)));
    }), 20_000, 'starting multigrain serve');
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--enable-unsafe-webgpu'], timeout: 20_000 });
    const page = await browser.newPage();
    await page.goto(url, { timeout: 15_000 });
    await page.waitForFunction(() => window.multigrainReady === true, undefined, { timeout: 30_000 });
    const error = await page.evaluate(() => window.multigrainError);
    if (error) throw new Error(`the page reports: ${error}`);
    return await withTimeout(page.evaluate(({ depths, repeats }) => window.multigrain.benchmark({ depths, repeats }), { depths, repeats }), 600_000, 'the page benchmark');
  } finally {
    if (browser) await browser.close();
    server.kill('SIGTERM');
  }
}

const page = await pageBenchmark();
const node = await nodeBenchmark();
await mg.shutdown();
for (const r of page.rows) {
  const n = node.rows.find((x) => x.model === r.model);
  console.log(JSON.stringify({ model: r.model, size: SIZE, batch: 1, page_ms: r.msPerImage, page_adapter: page.adapter, node_ms: n.msPerImage, node_adapter: node.adapter, page_over_node: r.msPerImage / n.msPerImage }));
}
console.log(`\n| model | page (${page.adapter}) ms/image | Node (${node.adapter}) ms/image | page / Node |\n| --- | ---: | ---: | ---: |`);
for (const r of page.rows) {
  const n = node.rows.find((x) => x.model === r.model);
  console.log(`| ${r.model} 224 | ${r.msPerImage.toFixed(1)} | ${n.msPerImage.toFixed(1)} | ${(r.msPerImage / n.msPerImage).toFixed(2)} |`);
}
