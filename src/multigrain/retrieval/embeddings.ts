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
}

/** Embeds the images the loader produces (its transform decides size and crop). Leaves the model in eval mode. */
export async function extractEmbeddings(model: MultiGrain, loader: DataLoader, options: ExtractOptions = {}): Promise<Embeddings> {
  const kind = options.kind ?? 'normalized';
  const rows = options.indices ? options.indices.length : loader.dataset.length;
  const dim = model.embeddingDim; // the pooled vector has the bias channel exactly when whitened
  const data = new Float32Array(rows * dim);
  const bar = options.progress ? new ProgressBar(options.progress, rows, 'img') : null;
  model.eval();
  let done = 0;
  const evaluation = loader.evaluation({ batchSize: options.batchSize ?? 1, ...(options.indices ? { indices: options.indices } : {}) });
  for await (const batch of evaluation) {
    const out: Tensor = tidy(() => noGrad(() => keep(embed(model, tensor(batch.images, batch.shape as Shape), kind))));
    const values = (await out.toArray()) as Float32Array;
    out.dispose();
    if (values.length !== batch.positions.length * dim) throw new Error(`extractEmbeddings: got ${values.length / batch.positions.length}-d vectors, expected ${dim}`);
    batch.positions.forEach((p, r) => {
      const row = values.subarray(r * dim, (r + 1) * dim);
      if (!row.every(Number.isFinite)) throw new Error(`extractEmbeddings: the embedding of image ${batch.instanceIds[r]} is not finite (NaN or infinity in the model's output)`);
      data.set(row, p * dim);
    });
    done += batch.positions.length;
    bar?.update(done);
  }
  bar?.finish();
  return { rows, dim, data };
}

function embed(model: MultiGrain, x: Tensor, kind: EmbeddingKind): Tensor {
  if (kind === 'pooled') return model.pooled(x);
  const out = model.forward(x);
  return kind === 'normalized' ? out.normalizedEmbedding : out.embedding;
}
