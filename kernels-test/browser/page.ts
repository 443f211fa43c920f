// The browser half of browser.test.ts. This file runs in headless Chromium (WebGPU on its
// built-in SwiftShader adapter): the test transpiles it to /page.js, the page loads the SAME
// library bundle users get (dist/browser/index.js, by URL), runs a few ops and backward passes
// on the inputs Node sends, and returns plain arrays; Node compares them with float64 CPU
// references. Nothing here may import a module at build time: the library comes in through
// a dynamic import of `input.libUrl`, typed against the sources.
type Lib = typeof import('../../src/index.js');
type Tensor = import('../../src/index.js').Tensor;

/** Data Node sends (float32-representable values as plain numbers). */
export interface SmokeInput {
  libUrl: string;
  broadcast: { a: number[]; aShape: number[]; b: number[]; bShape: number[]; w: number[] };
  mlp: { x: number[]; n: number; k: number; c: number; weight: number[]; bias: number[]; labels: number[] };
  matmulT: { a: number[]; m: number; k: number; b: number[]; n: number; w: number[] };
  sgd: { p: number[]; c: number[]; lr: number; momentum: number; weightDecay: number };
  gatherTopk: { x: number[]; rows: number; cols: number; index: number[]; logits: number[]; n: number; classes: number; labels: number[]; ks: number[] };
  conv: { x: number[]; xShape: number[]; w: number[]; wShape: number[]; b: number[]; padding: number; gy: number[] };
  pointwise: { x: number[]; xShape: number[]; w: number[]; wShape: number[]; scale: number[]; shift: number[]; residual: number[] };
}

export interface CaseResult {
  name: string;
  ok: boolean;
  error?: string;
  values: Record<string, number[]>;
  shapes: Record<string, number[]>;
  ms: number;
}

export interface SmokeResult {
  /** How far the page got: 'load' (bundle import failed), 'gpu' (no WebGPU), 'init' (init() failed), 'done'. */
  stage: 'load' | 'gpu' | 'init' | 'done';
  error?: string;
  userAgent: string;
  secureContext: boolean;
  hasNavigatorGpu: boolean;
  adapterInfo?: { vendor: string; architecture: string; device: string; description: string };
  adapterFeatures?: string[];
  /** The device's limits (the engine requests the adapter's maxima). */
  limits?: Record<string, number>;
  /** What inference precision 'auto' resolves to in the page, and why (f32 where there is no shader-f16). */
  precisionAuto?: { precision: string; reason: string };
  cases: CaseResult[];
}

declare global {
  interface Window {
    mgBrowserSmoke?: (input: SmokeInput) => Promise<SmokeResult>;
  }
}

function message(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}

async function runSmoke(input: SmokeInput): Promise<SmokeResult> {
  const result: SmokeResult = {
    stage: 'load',
    userAgent: navigator.userAgent,
    secureContext: isSecureContext,
    hasNavigatorGpu: !!(navigator as { gpu?: unknown }).gpu,
    cases: [],
  };
  let lib: Lib;
  try {
    lib = (await import(input.libUrl)) as Lib;
  } catch (err) {
    result.error = `importing ${input.libUrl} failed: ${message(err)}`;
    return result;
  }
  result.stage = 'gpu';
  if (!result.hasNavigatorGpu) {
    result.error = `navigator.gpu is undefined (secure context: ${result.secureContext})`;
    return result;
  }
  try {
    const adapter = await navigator.gpu.requestAdapter();
    if (adapter) result.adapterFeatures = [...adapter.features].map(String).sort();
  } catch {
    // init() below reports the same problem with the engine's own message
  }
  result.stage = 'init';
  let rt: Awaited<ReturnType<Lib['init']>>;
  try {
    rt = await lib.init();
  } catch (err) {
    result.error = `init() failed: ${message(err)}`;
    return result;
  }
  result.adapterInfo = { ...rt.gpu.adapterInfo };
  const limits: Record<string, number> = {};
  // GPUSupportedLimits exposes its values as prototype getters: for..in sees them.
  for (const key in rt.gpu.limits) {
    const value = (rt.gpu.limits as unknown as Record<string, unknown>)[key];
    if (typeof value === 'number') limits[key] = value;
  }
  result.limits = limits;
  result.precisionAuto = lib.resolvePrecision('auto');
  result.stage = 'done';

  const L = lib;
  const read = async (t: Tensor): Promise<number[]> => Array.from(await t.toArray());

  type PageCase = [string, (values: Record<string, number[]>, shapes: Record<string, number[]>) => Promise<void>];
  const cases: PageCase[] = [
    ['add with broadcasting, backward with an output gradient', async (v, s) => {
      const d = input.broadcast;
      const a = L.parameter(d.a, d.aShape);
      const b = L.parameter(d.b, d.bShape);
      const out = L.add(a, b);
      s.out = [...out.shape];
      v.out = await read(out);
      L.backward(out, { gradient: L.tensor(d.w, out.shape) });
      v.gradA = await read(a.grad!);
      v.gradB = await read(b.grad!);
    }],
    ['matmul + bias (broadcast add) + relu + sum + crossEntropy, backward', async (v, s) => {
      const d = input.mlp;
      const x = L.parameter(d.x, [d.n, d.k], 'x');
      const weight = L.parameter(d.weight, [d.k, d.c], 'weight');
      const bias = L.parameter(d.bias, [d.c], 'bias');
      const labels = L.tensor(d.labels, [d.n], 'i32');
      const hidden = L.relu(L.add(L.matmul(x, weight), bias));
      const colSum = L.sum(hidden, 0);
      const total = L.sum(hidden);
      const loss = L.crossEntropy(hidden, labels);
      s.relu = [...hidden.shape];
      s.colSum = [...colSum.shape];
      s.total = [...total.shape];
      s.loss = [...loss.shape];
      v.relu = await read(hidden);
      v.colSum = await read(colSum);
      v.total = await read(total);
      v.loss = await read(loss);
      L.backward(loss);
      v.gradX = await read(x.grad!);
      v.gradWeight = await read(weight.grad!);
      v.gradBias = await read(bias.grad!);
    }],
    ['matmul with transB over several 64x64 tiles, backward', async (v, s) => {
      const d = input.matmulT;
      const a = L.parameter(d.a, [d.m, d.k]);
      const b = L.parameter(d.b, [d.n, d.k]);
      const out = L.matmul(a, b, { transB: true });
      s.out = [...out.shape];
      v.out = await read(out);
      L.backward(out, { gradient: L.tensor(d.w, out.shape) });
      v.gradA = await read(a.grad!);
      v.gradB = await read(b.grad!);
    }],
    ['SGD with momentum and weight decay, two steps', async (v) => {
      const d = input.sgd;
      const p = L.parameter(d.p, [d.p.length], 'p');
      const c = L.tensor(d.c, [d.c.length]);
      const opt = new L.SGD([{ params: [p], lr: d.lr, momentum: d.momentum, weightDecay: d.weightDecay }]);
      for (let step = 0; step < 2; step++) {
        opt.zeroGrad();
        L.backward(L.sum(L.mul(p, c))); // grad = c
        opt.step();
      }
      v.p = await read(p);
    }],
    ['gather rows and top-k accuracy counts', async (v, s) => {
      const d = input.gatherTopk;
      const x = L.tensor(d.x, [d.rows, d.cols]);
      const rows = L.gather(x, L.tensor(d.index, [d.index.length], 'i32'));
      s.rows = [...rows.shape];
      v.rows = await read(rows);
      const counts = L.topkCorrect(L.tensor(d.logits, [d.n, d.classes]), L.tensor(d.labels, [d.n], 'i32'), d.ks);
      v.counts = await read(counts);
    }],
    ...(['never', 'always'] as const).map((wino): PageCase => [
      `conv2d 3x3 with bias, backward (Winograd ${wino})`, async (v, s) => {
        const d = input.conv;
        const before = L.tune({ winograd: wino, winogradTile: null });
        try {
          const x = L.parameter(d.x, d.xShape);
          const w = L.parameter(d.w, d.wShape);
          const b = L.parameter(d.b, [d.wShape[0]]);
          const out = L.conv2d(x, w, b, { padding: d.padding });
          s.out = [...out.shape];
          v.out = await read(out);
          L.backward(out, { gradient: L.tensor(d.gy, out.shape) });
          v.gradX = await read(x.grad!);
          v.gradW = await read(w.grad!);
          v.gradB = await read(b.grad!);
        } finally {
          L.tune(before);
        }
      }]),
    ['conv2d 1x1 with the inference epilogue (folded batchnorm, residual, ReLU)', async (v, s) => {
      const d = input.pointwise;
      const c = d.wShape[0];
      const out = L.conv2dRaw(L.tensor(d.x, d.xShape), L.tensor(d.w, d.wShape), null, {}, {
        scale: L.tensor(d.scale, [c]), shift: L.tensor(d.shift, [c]), residual: L.tensor(d.residual, [d.xShape[0], c, d.xShape[2], d.xShape[3]]), relu: true,
      });
      s.out = [...out.shape];
      v.out = await read(out);
      v.algorithm = [['gemm', 'matmul', 'winograd-2x2', 'winograd-4x4'].indexOf(L.conv2dAlgorithm(d.xShape, d.wShape))];
    }],
  ];

  for (const [name, body] of cases) {
    const values: Record<string, number[]> = {};
    const shapes: Record<string, number[]> = {};
    const t0 = performance.now();
    try {
      await body(values, shapes);
      await rt.sync(); // surfaces device errors of this case here, not in the next one
      result.cases.push({ name, ok: true, values, shapes, ms: performance.now() - t0 });
    } catch (err) {
      result.cases.push({ name, ok: false, error: message(err), values, shapes, ms: performance.now() - t0 });
    } finally {
      L.clearTape();
    }
  }
  return result;
}

window.mgBrowserSmoke = runSmoke;
