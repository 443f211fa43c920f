// Browser smoke test: the library bundle users load in a page (dist/browser/index.js) runs
// there. A tiny HTTP server on 127.0.0.1 serves that bundle (and its source map) and a test
// page; headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core, never a
// downloaded browser) opens it and gets WebGPU on Chromium's built-in SwiftShader adapter.
// The page (page.ts) runs init(), a few ops and backward passes, and returns plain arrays;
// here they are compared with float64 CPU references. No WebGPU in the page is a FAILURE.
//
// This file shares the test process with the Node GPU tests: it never imports or shuts down
// the engine, and it closes Chromium and the server itself (every await has a time limit).
// Tolerances: forward atol 1e-5 / rtol 1e-5 for elementwise, relu, sum, cross-entropy, SGD
// and gather (a few f32 roundings); 1e-4 / 1e-4 for matmul outputs and their gradients
// (40..67-term f32 dot products); gradients vs finite differences atol 2e-5 / rtol 1e-4.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { transform } from 'esbuild';
import { randn, rng, prod, assertClose, numericGrad, broadcastMap } from '../helpers.js';
import type { SmokeInput, SmokeResult, CaseResult } from './page.js';
import { CHROMIUM, CHROMIUM_ARGS, withTimeout } from './chromium.js';
import { geom, convForward, convGradInput, convGradWeight, convGradBias, type ConvCase } from '../conv/reference.js';

const test = suite('browser');

// Built to build/test/browser/browser.test.js: the repository root is three levels up.
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BUNDLE = join(ROOT, 'dist/browser/index.js');
const PAGE_TS = join(ROOT, 'kernels-test/browser/page.ts');
const PAGE_HTML = join(ROOT, 'kernels-test/browser/index.html');
const LIB_URL = '/dist/browser/index.js';

const FWD = { atol: 1e-5, rtol: 1e-5 };
const MATMUL = { atol: 1e-4, rtol: 1e-4 };
const BWD = { atol: 2e-5, rtol: 1e-4 };


// ---------------------------------------------------------------- inputs and references

const f32 = (xs: ArrayLike<number>): number[] => Array.from(xs, Math.fround);

// 3x3 convolution: odd maps, channel counts that are not multiples of 4, two images.
const CONV = { xShape: [2, 5, 9, 9], wShape: [6, 5, 3, 3], outShape: [2, 6, 9, 9] };
// 1x1 convolution with the inference epilogue: 7x7 maps (49 columns: the scalar matmul path).
const PW = { xShape: [2, 6, 7, 7], wShape: [5, 6, 1, 1], outShape: [2, 5, 7, 7] };

function makeInput(): SmokeInput {
  const aShape = [5, 1, 3];
  const bShape = [4, 1];
  const n = 7, k = 33, c = 5;
  const labelRng = rng(41);
  // Bias keeps every pre-activation away from relu's kink (checked below) so that finite
  // differences are valid.
  const mlp = {
    x: f32(randn(n * k, 31, 0.5)), n, k, c,
    weight: f32(randn(k * c, 32, 0.3)),
    bias: f32(randn(c, 33, 0.5)),
    labels: Array.from({ length: n }, () => Math.floor(labelRng() * c)),
  };
  const m = 70, kk = 40, nn = 67; // 2 x 2 tiles of 64, both partial
  const topN = 9, classes = 6;
  // distinct logits (a shuffled ramp per row): no ties, so the top-k reference is unambiguous
  const topRng = rng(61);
  const logits: number[] = [];
  for (let i = 0; i < topN; i++) {
    const row = Array.from({ length: classes }, (_, j) => j * 0.25 - 0.5);
    for (let j = classes - 1; j > 0; j--) {
      const r = Math.floor(topRng() * (j + 1));
      [row[j], row[r]] = [row[r], row[j]];
    }
    logits.push(...row);
  }
  return {
    libUrl: LIB_URL,
    broadcast: {
      a: f32(randn(prod(aShape), 11)), aShape, b: f32(randn(prod(bShape), 12)), bShape,
      w: f32(randn(5 * 4 * 3, 13)),
    },
    mlp,
    matmulT: { a: f32(randn(m * kk, 21)), m, k: kk, b: f32(randn(nn * kk, 22)), n: nn, w: f32(randn(m * nn, 23)) },
    sgd: { p: f32(randn(300, 51)), c: f32(randn(300, 52)), lr: 0.1, momentum: 0.9, weightDecay: 1e-2 },
    conv: {
      x: f32(randn(prod(CONV.xShape), 81)), xShape: CONV.xShape, w: f32(randn(prod(CONV.wShape), 82, 0.5)), wShape: CONV.wShape,
      b: f32(randn(CONV.wShape[0], 83)), padding: 1, gy: f32(randn(prod(CONV.outShape), 84)),
    },
    pointwise: {
      x: f32(randn(prod(PW.xShape), 85)), xShape: PW.xShape, w: f32(randn(prod(PW.wShape), 86, 0.5)), wShape: PW.wShape,
      scale: f32(randn(PW.wShape[0], 87)), shift: f32(randn(PW.wShape[0], 88)), residual: f32(randn(prod(PW.outShape), 89)),
    },
    gatherTopk: {
      x: f32(randn(6 * 5, 71)), rows: 6, cols: 5, index: [3, 0, 5, 5, 1],
      logits, n: topN, classes, labels: Array.from({ length: topN }, (_, i) => (i * 5) % classes), ks: [1, 3],
    },
  };
}

/** X·W + b (float64), [n, c]. */
function preActivation(x: ArrayLike<number>, weight: ArrayLike<number>, bias: ArrayLike<number>, n: number, k: number, c: number): Float64Array {
  const h = new Float64Array(n * c);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < c; j++) {
      let s = bias[j];
      for (let p = 0; p < k; p++) s += x[i * k + p] * weight[p * c + j];
      h[i * c + j] = s;
    }
  }
  return h;
}

/** Mean softmax cross-entropy of relu(X·W + b) with integer labels (float64). */
function mlpLoss(x: ArrayLike<number>, weight: ArrayLike<number>, bias: ArrayLike<number>, d: SmokeInput['mlp']): number {
  const r = preActivation(x, weight, bias, d.n, d.k, d.c).map((v) => Math.max(v, 0));
  let loss = 0;
  for (let i = 0; i < d.n; i++) {
    const row = r.subarray(i * d.c, (i + 1) * d.c);
    const max = Math.max(...row);
    let z = 0;
    for (const v of row) z += Math.exp(v - max);
    loss += max + Math.log(z) - row[d.labels[i]];
  }
  return loss / d.n;
}

// ---------------------------------------------------------------- the browser run

const input = makeInput();
let smoke: SmokeResult | null = null;
let setupError = 'the browser run did not happen (see the first test of this suite)';

interface Served {
  body: Buffer | string;
  type: string;
}

async function startServer(files: Map<string, Served>, requests: string[]): Promise<{ server: Server; origin: string }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    requests.push(path);
    const file = files.get(path);
    if (req.method !== 'GET' || !file) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-store' }).end(file.body);
  });
  await withTimeout(new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  }), 5000, 'starting the HTTP server');
  const { port } = server.address() as AddressInfo;
  return { server, origin: `http://127.0.0.1:${port}` };
}

async function stopServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await withTimeout(new Promise<void>((resolve) => server.close(() => resolve())), 5000, 'closing the HTTP server')
    .catch((err: Error) => console.error(err.message));
}

function describe(result: SmokeResult, timings: string): string {
  const a = result.adapterInfo;
  const l = result.limits ?? {};
  const keys = [
    'maxComputeInvocationsPerWorkgroup', 'maxComputeWorkgroupSizeX', 'maxComputeWorkgroupSizeY', 'maxComputeWorkgroupSizeZ',
    'maxComputeWorkgroupStorageSize', 'maxStorageBuffersPerShaderStage', 'maxComputeWorkgroupsPerDimension',
    'maxStorageBufferBindingSize', 'maxBufferSize', 'maxUniformBufferBindingSize',
  ];
  return [
    `  browser: ${result.userAgent}`,
    `  adapter: vendor=${a?.vendor} architecture=${a?.architecture} device=${a?.device || '-'} description=${a?.description || '-'}`,
    `  limits: ${keys.map((key) => `${key}=${l[key]}`).join(' ')}`,
    `  features: ${(result.adapterFeatures ?? []).join(' ')}`,
    `  cases: ${result.cases.map((c) => `${c.ok ? 'ok' : 'FAILED'} ${c.ms.toFixed(0)} ms`).join(', ')}`,
    `  time: ${timings}`,
  ].join('\n');
}

test('Chromium loads dist/browser/index.js and runs the engine on WebGPU', async () => {
  // Failures before the page runs say what to do; nothing here is skipped silently.
  if (!existsSync(CHROMIUM)) {
    setupError = `Chromium is not installed (${CHROMIUM} is missing): run \`bash tools/setup.sh\``;
    assert.unreachable(setupError);
  }
  if (!existsSync(BUNDLE)) {
    setupError = `${BUNDLE} is missing: run \`node tools/build.mjs\``;
    assert.unreachable(setupError);
  }
  let chromium: typeof import('playwright-core').chromium;
  try {
    ({ chromium } = await withTimeout(import('playwright-core'), 10000, 'loading playwright-core'));
  } catch (err) {
    setupError = `cannot load playwright-core (${(err as Error).message}): run \`bash tools/setup.sh\` (npm ci)`;
    assert.unreachable(setupError);
    return;
  }
  const pageJs = await withTimeout(transform(readFileSync(PAGE_TS, 'utf8'), {
    loader: 'ts', format: 'esm', target: 'es2022', sourcefile: 'page.ts', sourcemap: 'inline',
  }), 10000, 'transpiling page.ts');
  const files = new Map<string, Served>([
    ['/', { body: readFileSync(PAGE_HTML), type: 'text/html; charset=utf-8' }],
    ['/page.js', { body: pageJs.code, type: 'text/javascript; charset=utf-8' }],
    [LIB_URL, { body: readFileSync(BUNDLE), type: 'text/javascript; charset=utf-8' }],
  ]);
  if (existsSync(`${BUNDLE}.map`)) files.set(`${LIB_URL}.map`, { body: readFileSync(`${BUNDLE}.map`), type: 'application/json' });

  const t0 = performance.now();
  const marks: string[] = [];
  const mark = (what: string) => marks.push(`${what} ${(performance.now() - t0).toFixed(0)} ms`);
  const requests: string[] = [];
  const pageLog: string[] = [];
  const { server, origin } = await startServer(files, requests);
  let browser: Awaited<ReturnType<typeof chromium.launch>> | null = null;
  try {
    try {
      // launch() gives the browser a fresh temporary profile (its own --user-data-dir).
      browser = await withTimeout(chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 20000 }), 25000, 'launching Chromium');
    } catch (err) {
      setupError = `cannot launch ${CHROMIUM} through playwright-core: ${(err as Error).message}`;
      assert.unreachable(setupError);
      return;
    }
    mark('launched');
    const page = await withTimeout(browser.newPage(), 10000, 'opening a page');
    page.on('console', (m) => pageLog.push(`console.${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => pageLog.push(`pageerror: ${e.message}`));
    page.on('requestfailed', (r) => pageLog.push(`requestfailed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
    page.on('crash', () => pageLog.push('the page crashed'));
    const logTail = () => (pageLog.length ? `\npage log:\n  ${pageLog.slice(-20).join('\n  ')}` : '');
    try {
      await page.goto(`${origin}/`, { waitUntil: 'load', timeout: 15000 });
      await page.waitForFunction(() => typeof window.mgBrowserSmoke === 'function', undefined, { timeout: 10000 });
    } catch (err) {
      setupError = `the test page did not load (${(err as Error).message.split('\n')[0]})${logTail()}`;
      assert.unreachable(setupError);
    }
    mark('page loaded');
    try {
      smoke = await withTimeout(page.evaluate((inp) => window.mgBrowserSmoke!(inp), input), 45000, 'running the ops in the page');
    } catch (err) {
      setupError = `the page run failed: ${(err as Error).message.split('\n')[0]}${logTail()}`;
      assert.unreachable(setupError);
    }
    const result = smoke!;
    if (result.stage !== 'done') {
      const why: Record<string, string> = {
        load: 'the page could not import the library bundle',
        gpu: `WebGPU is not available in the Chromium page (flags: ${CHROMIUM_ARGS.join(' ')})`,
        init: 'the engine could not open a WebGPU device in the page',
      };
      setupError = `${why[result.stage]}: ${result.error}\n  browser: ${result.userAgent}${logTail()}`;
      smoke = null;
      assert.unreachable(setupError);
    }
    mark('ops done');
    console.log(`\n${describe(result, marks.join(', '))}`);
    assert.ok(requests.includes(LIB_URL), `the page requested ${LIB_URL}`);
    assert.ok(result.adapterInfo, 'adapter info reported');
    assert.equal(result.cases.length, 8, 'every case ran');
    // precision 'auto' in a page: f16 only where the adapter has shader-f16 (SwiftShader has not), and it says why
    const hasF16 = (result.adapterFeatures ?? []).includes('shader-f16');
    assert.is(result.precisionAuto?.precision, hasF16 ? 'f16' : 'f32');
    assert.ok(result.precisionAuto?.reason.includes(hasF16 ? "has 'shader-f16'" : "no 'shader-f16'"), result.precisionAuto?.reason);
  } finally {
    if (browser) {
      await withTimeout(browser.close(), 10000, 'closing Chromium').catch((err: Error) => console.error(err.message));
    }
    await stopServer(server);
  }
});

/** The page's result for one case (fails with the page's error if the case threw there). */
function pageCase(index: number): CaseResult {
  if (!smoke) assert.unreachable(`no browser result: ${setupError}`);
  const c = smoke!.cases[index];
  if (!c) assert.unreachable(`case ${index} did not run in the page`);
  if (!c.ok) assert.unreachable(`in the page, "${c.name}" failed: ${c.error}`);
  return c;
}

test('page: add with broadcasting, forward and backward', () => {
  const c = pageCase(0);
  const d = input.broadcast;
  const add = (x: number, y: number) => x + y;
  const expected = broadcastMap(d.a, d.aShape, d.b, d.bShape, add);
  assert.equal(c.shapes.out, expected.shape);
  assertClose(c.values.out, expected.data, FWD, 'add forward');
  const a = Float64Array.from(d.a);
  const b = Float64Array.from(d.b);
  assertClose(c.values.gradA, numericGrad((x) => broadcastMap(x, d.aShape, b, d.bShape, add).data, a, d.w), BWD, 'add grad a');
  assertClose(c.values.gradB, numericGrad((y) => broadcastMap(a, d.aShape, y, d.bShape, add).data, b, d.w), BWD, 'add grad b');
});

test('page: matmul + bias + relu + sum + crossEntropy, forward and backward', () => {
  const c = pageCase(1);
  const d = input.mlp;
  const h = preActivation(d.x, d.weight, d.bias, d.n, d.k, d.c);
  const minAbs = Math.min(...Array.from(h, Math.abs));
  assert.ok(minAbs > 1e-3, `test data: pre-activations stay away from relu's kink (min |h| = ${minAbs})`);
  const r = h.map((v) => Math.max(v, 0));
  const colSum = new Float64Array(d.c);
  for (let i = 0; i < d.n; i++) for (let j = 0; j < d.c; j++) colSum[j] += r[i * d.c + j];
  assert.equal(c.shapes.relu, [d.n, d.c]);
  assert.equal(c.shapes.colSum, [d.c]);
  assert.equal(c.shapes.loss, c.shapes.total);
  assertClose(c.values.relu, r, MATMUL, 'relu(x·W + b)');
  assertClose(c.values.colSum, colSum, MATMUL, 'sum over axis 0');
  assertClose(c.values.total, [r.reduce((s, v) => s + v, 0)], MATMUL, 'sum of all');
  const x = Float64Array.from(d.x);
  const weight = Float64Array.from(d.weight);
  const bias = Float64Array.from(d.bias);
  assertClose(c.values.loss, [mlpLoss(x, weight, bias, d)], FWD, 'crossEntropy');
  assertClose(c.values.gradX, numericGrad((v) => [mlpLoss(v, weight, bias, d)], x, [1]), BWD, 'grad x');
  assertClose(c.values.gradWeight, numericGrad((v) => [mlpLoss(x, v, bias, d)], weight, [1]), BWD, 'grad weight');
  assertClose(c.values.gradBias, numericGrad((v) => [mlpLoss(x, weight, v, d)], bias, [1]), BWD, 'grad bias');
});

test('page: matmul with transB over several tiles, forward and backward', () => {
  const c = pageCase(2);
  const { a, b, w, m, k, n } = input.matmulT;
  const out = new Float64Array(m * n);
  const gradA = new Float64Array(m * k);
  const gradB = new Float64Array(n * k);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[i * k + p] * b[j * k + p];
      out[i * n + j] = s;
      // d(sum w·out)/dA = W·B, /dB = Wᵀ·A
      for (let p = 0; p < k; p++) {
        gradA[i * k + p] += w[i * n + j] * b[j * k + p];
        gradB[j * k + p] += w[i * n + j] * a[i * k + p];
      }
    }
  }
  assert.equal(c.shapes.out, [m, n]);
  assertClose(c.values.out, out, MATMUL, 'a·bᵀ');
  assertClose(c.values.gradA, gradA, MATMUL, 'grad a');
  assertClose(c.values.gradB, gradB, MATMUL, 'grad b');
});

test('page: SGD with momentum and weight decay', () => {
  const c = pageCase(3);
  const { p, c: g, lr, momentum, weightDecay } = input.sgd;
  const expected = p.map((p0, i) => {
    // PyTorch SGD: d = g + wd·p; v = first ? d : μ·v + d; p -= lr·v
    let v = g[i] + weightDecay * p0;
    const p1 = p0 - lr * v;
    v = momentum * v + g[i] + weightDecay * p1;
    return p1 - lr * v;
  });
  assertClose(c.values.p, expected, FWD, 'parameter after two steps');
});

test('page: gather and top-k accuracy counts', () => {
  const c = pageCase(4);
  const d = input.gatherTopk;
  const rows = d.index.flatMap((i) => d.x.slice(i * d.cols, (i + 1) * d.cols));
  assert.equal(c.shapes.rows, [d.index.length, d.cols]);
  assertClose(c.values.rows, rows, { atol: 0, rtol: 0 }, 'gathered rows');
  const counts = d.ks.map((kk) => {
    let hits = 0;
    for (let i = 0; i < d.n; i++) {
      const row = d.logits.slice(i * d.classes, (i + 1) * d.classes);
      const rank = row.filter((v) => v > row[d.labels[i]]).length;
      if (rank < kk) hits++;
    }
    return hits;
  });
  assertClose(c.values.counts, counts, { atol: 0, rtol: 0 }, 'top-1 and top-3 hits');
});

for (const [index, wino] of [[5, 'never'], [6, 'always']] as const) {
  test(`page: conv2d 3x3 with bias, forward and backward (Winograd ${wino})`, () => {
    const c = pageCase(index);
    const d = input.conv;
    const cc: ConvCase = { N: 2, Cin: 5, H: 9, W: 9, Cout: 6, KH: 3, KW: 3, padding: d.padding, bias: true };
    const g = geom(cc);
    assert.equal(c.shapes.out, CONV.outShape, 'output shape');
    const y = convForward(g, d.x, d.w, d.b);
    assertClose(c.values.out, y, MATMUL, 'conv2d forward');
    assertClose(c.values.gradX, convGradInput(g, d.gy, d.w), MATMUL, 'grad x');
    assertClose(c.values.gradW, convGradWeight(g, d.gy, d.x), MATMUL, 'grad weight');
    assertClose(c.values.gradB, convGradBias(g, d.gy), MATMUL, 'grad bias');
  });
}

test('page: conv2d 1x1 with the inference epilogue', () => {
  const c = pageCase(7);
  const d = input.pointwise;
  const g = geom({ N: 2, Cin: 6, H: 7, W: 7, Cout: 5, KH: 1, KW: 1 });
  const P = 49;
  const expected = convForward(g, d.x, d.w, null).map((v, i) => {
    const ch = Math.floor(i / P) % 5;
    return Math.max(v * d.scale[ch] + d.shift[ch] + d.residual[i], 0);
  });
  assert.equal(c.shapes.out, PW.outShape, 'output shape');
  assertClose(c.values.out, expected, MATMUL, 'bn(conv1x1(x)) + residual, ReLU');
  // SwiftShader is a CPU adapter (direct schedule): this case tests the matmul kernel's epilogue.
  assert.is(['gemm', 'matmul', 'winograd-2x2', 'winograd-4x4'][c.values.algorithm[0]], 'matmul', 'the 1x1 forward took the matmul path');
});

test.run();
