/** Feature extraction: one embedding per image of a dataset, in eval mode, back on the host. */
import { tensor, noGrad, tidy, keep, type Tensor, type Shape } from '../../engine/index.js';
import type { DataLoader } from '../../data/index.js';
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
}

/** Row-major host matrix: row r = embedding of the r-th requested image. */
export interface Embeddings {
  rows: number;
  dim: number;
  data: Float32Array;
  /** Rows left as zeros because the loader skipped their image (`skipUnreadable`); absent when none. */
  missing?: Int32Array;
}

/** Batches whose embeddings are being read back while later ones run. */
const IN_FLIGHT = 4;

/** Embeds the images the loader produces (its transform decides size and crop). Leaves the model in eval mode. */
export async function extractEmbeddings(model: MultiGrain, loader: DataLoader, options: ExtractOptions = {}): Promise<Embeddings> {
  const kind = options.kind ?? 'normalized';
  const rows = options.indices ? options.indices.length : loader.dataset.length;
  const dim = model.embeddingDim; // the pooled vector has the bias channel exactly when whitened
  const data = new Float32Array(rows * dim);
  const filled = new Uint8Array(rows);
  const bar = options.progress ? new ProgressBar(options.progress, rows, 'img') : null;
  model.eval();
  let done = 0;
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
      data.set(row, p * dim);
      filled[p] = 1;
    });
    done += positions.length;
    bar?.update(done);
  };
  const evaluation = loader.evaluation({ batchSize: options.batchSize ?? 1, ...(options.indices ? { indices: options.indices } : {}) });
  try {
    for await (const batch of evaluation) {
      const out: Tensor = tidy(() => noGrad(() => keep(embed(model, tensor(batch.images, batch.shape as Shape), kind))));
      pending.push({ values: out.toArray(), out, positions: batch.positions, ids: batch.instanceIds });
      if (pending.length > IN_FLIGHT) await settle();
    }
    while (pending.length) await settle();
  } finally {
    for (const p of pending) void p.values.then(() => p.out.dispose(), () => p.out.dispose());
  }
  bar?.finish();
  const missing = Int32Array.from(filled.reduce<number[]>((out, f, r) => (f ? out : (out.push(r), out)), []));
  return missing.length ? { rows, dim, data, missing } : { rows, dim, data };
}

function embed(model: MultiGrain, x: Tensor, kind: EmbeddingKind): Tensor {
  if (kind === 'pooled') return model.pooled(x);
  const out = model.forward(x);
  return kind === 'normalized' ? out.normalizedEmbedding : out.embedding;
}
