/**
 * The in-page speed check: ResNet-18 and ResNet-50 MultiGrain inference (batch 1, random
 * weights, eval mode) at 224 × 224, milliseconds per image, the median of a few timed passes
 * after one warm-up (which also compiles the pipelines). Each pass ends with the embedding read
 * back, so the time is the whole forward on the GPU.
 */
import { DataRng, MultiGrain, init, keep, noGrad, tensor, tidy, type ResNetDepth } from '../index.js';
import { gpuStatus } from './status.js';

export interface BenchmarkOptions {
  depths?: ResNetDepth[];
  size?: number;
  /** Timed passes per model (after the warm-up). */
  repeats?: number;
  onRow?: (row: BenchmarkRow) => void;
}

export interface BenchmarkRow {
  model: string;
  size: number;
  msPerImage: number;
  /** Every timed pass, ms. */
  times: number[];
}

export interface BenchmarkResult {
  adapter: string;
  rows: BenchmarkRow[];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Runs the benchmark; every tensor it made is disposed. */
export async function benchmark(options: BenchmarkOptions = {}): Promise<BenchmarkResult> {
  const rt = await init();
  const size = options.size ?? 224;
  const repeats = options.repeats ?? 3;
  const rows: BenchmarkRow[] = [];
  for (const depth of options.depths ?? [18, 50]) {
    const model = new MultiGrain({ backbone: depth, numClasses: 1000, seed: 1 });
    model.eval();
    const rng = new DataRng(7);
    const x = tensor(Float32Array.from({ length: 3 * size * size }, () => rng.normal()), [1, 3, size, size]);
    const pass = async (): Promise<number> => {
      const t0 = performance.now();
      const e = tidy(() => noGrad(() => keep(model.forward(x).normalizedEmbedding)));
      await e.toArray();
      e.dispose();
      return performance.now() - t0;
    };
    try {
      await pass();
      const times: number[] = [];
      for (let i = 0; i < repeats; i++) times.push(await pass());
      const row = { model: `resnet${depth}`, size, msPerImage: median(times), times };
      rows.push(row);
      options.onRow?.(row);
    } finally {
      x.dispose();
      for (const t of model.stateTensors().values()) t.dispose();
    }
  }
  return { adapter: gpuStatus(rt).name, rows };
}
