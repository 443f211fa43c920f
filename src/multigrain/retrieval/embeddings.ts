/** Feature extraction: one embedding per image of a dataset, in eval mode, back on the host. */
import { tensor, noGrad, tidy, keep, type Tensor, type Shape } from '../../engine/index.js';
import { hasRecords, sizeBucketOrder, type DataLoader } from '../../data/index.js';
import type { MultiGrain } from '../model.js';
import { ProgressBar } from '../training/progress.js';

/**
 * Which vector of the model: `normalized` = the l2-normalized (whitened, once whitened)
 * embedding that retrieval compares; `embedding` = the same before normalization; `pooled` =
 * the GeM-pooled trunk output (with the bias channel once whitened), the input of whitening.
 */
export type EmbeddingKind = 'normalized' | 'embedding' | 'pooled';

export interface ExtractOptions {
  /** Images per forward pass (rect mode also ends a batch where the image size changes). Default 1. */
  batchSize?: number;
  /** Dataset indices to embed, in this order (default all). */
  indices?: ArrayLike<number>;
  kind?: EmbeddingKind;
  /** Progress bar label; none when omitted. */
  progress?: string;
  /**
   * Visit rect-mode images grouped by output size (read from their headers first), so that
   * batches are full instead of ending at every size change (default true). The rows keep the
   * requested order either way.
   */
  bucketBySize?: boolean;
  /** Called after each batch with the number of images embedded so far. */
  onProgress?: (done: number) => void;
}

/** Row-major host matrix: row r = embedding of the r-th requested image. */
export interface Embeddings {
  rows: number;
  dim: number;
  data: Float32Array;
  /** Rows whose image the loader skipped as unreadable (`skipUnreadable`): left zero. */
  skipped?: number[];
  /** Forward passes run (batches). */
  batches?: number;
  /** Seconds from the first header read to the last readback. */
  seconds?: number;
}

/** Batches whose embeddings are being read back while later ones run. */
const IN_FLIGHT = 4;

/** Embeds the images the loader produces (its transform decides size and crop). Leaves the model in eval mode. */
export async function extractEmbeddings(model: MultiGrain, loader: DataLoader, options: ExtractOptions = {}): Promise<Embeddings> {
  const kind = options.kind ?? 'normalized';
  const started = Date.now();
  const requested = options.indices ?? Int32Array.from({ length: loader.dataset.length }, (_, i) => i);
  const rows = requested.length;
  const dim = model.embeddingDim; // the pooled vector has the bias channel exactly when whitened
  const data = new Float32Array(rows * dim);
  const filled = new Uint8Array(rows);
  // The loader visits `order` (positions of `requested`); batch position p is row order[p].
  const spec = loader.transform;
  const dataset = loader.dataset;
  const order = typeof spec !== 'function' && spec.kind === 'val' && (options.bucketBySize ?? true) && hasRecords(dataset)
    ? await sizeBucketOrder(dataset, requested, spec.mode, spec.size, { exifOrientation: loader.exifOrientation })
    : Int32Array.from({ length: rows }, (_, k) => k);
  const bar = options.progress ? new ProgressBar(options.progress, rows, 'img') : null;
  model.eval();
  let done = 0;
  let batches = 0;
  // Readbacks overlap the next batches' work: up to IN_FLIGHT results are awaited late.
  const pending: { values: Promise<Float32Array | Int32Array | Uint32Array>; out: Tensor; positions: Int32Array; ids: Int32Array }[] = [];
  const settle = async (): Promise<void> => {
    const { values: read, out, positions, ids } = pending.shift()!;
    const values = await read;
    out.dispose();
    if (values.length !== positions.length * dim) throw new Error(`extractEmbeddings: got ${values.length / positions.length}-d vectors, expected ${dim}`);
    positions.forEach((p, r) => {
      const row = values.subarray(r * dim, (r + 1) * dim);
      if (!row.every(Number.isFinite)) throw new Error(`extractEmbeddings: the embedding of image ${ids[r]} is not finite (NaN or infinity in the model's output)`);
      data.set(row, order[p]! * dim);
      filled[order[p]!] = 1;
    });
    done += positions.length;
    bar?.update(done);
    options.onProgress?.(done);
  };
  const evaluation = loader.evaluation({ batchSize: options.batchSize ?? 1, indices: Int32Array.from(order, (k) => requested[k]!) });
  try {
    for await (const batch of evaluation) {
      const out: Tensor = tidy(() => noGrad(() => keep(embed(model, tensor(batch.images, batch.shape as Shape), kind))));
      batches++;
      pending.push({ values: out.toArray(), out, positions: batch.positions, ids: batch.instanceIds });
      if (pending.length > IN_FLIGHT) await settle();
    }
    while (pending.length) await settle();
  } finally {
    for (const p of pending) void p.values.then(() => p.out.dispose(), () => p.out.dispose());
  }
  bar?.finish();
  const skipped: number[] = [];
  filled.forEach((f, r) => { if (!f) skipped.push(r); });
  return { rows, dim, data, skipped, batches, seconds: (Date.now() - started) / 1000 };
}

function embed(model: MultiGrain, x: Tensor, kind: EmbeddingKind): Tensor {
  if (kind === 'pooled') return model.pooled(x);
  const out = model.forward(x);
  return kind === 'normalized' ? out.normalizedEmbedding : out.embedding;
}
