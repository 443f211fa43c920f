/**
 * One pass of a model over a list of images: the class probabilities (softmax of the logits)
 * and the l2-normalized embedding of each, with the validation transform (shorter side to
 * size·256/224, center crop size × size) as evaluation uses. Images are Blobs/Files (the page)
 * or URLs / paths for the decoder given.
 */
import { BrowserImageDecoder, DataLoader, RecordDataset, keep, noGrad, tensor, tidy, type ImageDecoder, type Shape, type Tensor } from '../index.js';
import type { LoadedModel } from './loaded-model.js';

/** An image the page was given: a File/Blob, or a URL (a path in Node). */
export type ImageInput = Blob | string;

/** Row-major results, row r for image r. */
export interface ModelOutputs {
  rows: number;
  /** l2-normalized embeddings, rows × dim. */
  embeddings: Float32Array;
  dim: number;
  /** Softmax probabilities, rows × classes. */
  probabilities: Float32Array;
  classes: number;
}

export interface RunOptions {
  /** Decoder of the images (default: the browser's codecs). */
  decoder?: ImageDecoder;
  /** Called after each image with the number done. */
  onProgress?: (done: number) => void;
}

/** Softmax of one row, in float64 then stored as float32. */
export function softmaxRow(logits: ArrayLike<number>): Float32Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]!);
  const e = Array.from(logits, (v) => Math.exp(v - max));
  const sum = e.reduce((s, v) => s + v, 0);
  return Float32Array.from(e, (v) => v / sum);
}

/** Runs the model (eval mode, no gradients) on each image; every tensor it made is disposed. */
export async function runModel(m: LoadedModel, images: readonly ImageInput[], options: RunOptions = {}): Promise<ModelOutputs> {
  const urls: string[] = [];
  const paths = images.map((img) => {
    if (typeof img === 'string') return img;
    const url = URL.createObjectURL(img);
    urls.push(url);
    return url;
  });
  const dataset = new RecordDataset(paths.map((path) => ({ path, label: -1 })), options.decoder ?? new BrowserImageDecoder());
  const loader = new DataLoader({ dataset, transform: { kind: 'val', mode: 'square', size: m.inputSize }, workers: 0, decoder: options.decoder ?? new BrowserImageDecoder() });
  const dim = m.model.embeddingDim;
  const classes = m.model.options.numClasses;
  const embeddings = new Float32Array(images.length * dim);
  const probabilities = new Float32Array(images.length * classes);
  m.model.eval();
  let done = 0;
  try {
    for await (const batch of loader.evaluation({ batchSize: 1 })) {
      const [emb, logits] = tidy(() => noGrad(() => {
        const out = m.model.forward(tensor(batch.images, batch.shape as Shape));
        return [keep(out.normalizedEmbedding), keep(out.logits)] as [Tensor, Tensor];
      }));
      try {
        const [e, l] = await Promise.all([emb.toArray(), logits.toArray()]);
        batch.positions.forEach((p, r) => {
          embeddings.set(e.subarray(r * dim, (r + 1) * dim), p * dim);
          probabilities.set(softmaxRow(l.subarray(r * classes, (r + 1) * classes)), p * classes);
        });
      } finally {
        emb.dispose();
        logits.dispose();
      }
      done += batch.positions.length;
      options.onProgress?.(done);
    }
  } finally {
    await loader.close();
    urls.forEach((u) => URL.revokeObjectURL(u));
  }
  return { rows: images.length, embeddings, dim, probabilities, classes };
}

/** The k most probable classes of row `r`, best first. */
export function topClasses(out: ModelOutputs, r: number, names: readonly string[], k = 5): { name: string; index: number; probability: number }[] {
  const row = out.probabilities.subarray(r * out.classes, (r + 1) * out.classes);
  return Array.from(row, (p, index) => ({ index, probability: p, name: names[index] ?? `class ${index}` }))
    .sort((a, b) => b.probability - a.probability || a.index - b.index)
    .slice(0, Math.min(k, row.length));
}
