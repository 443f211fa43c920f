/**
 * Embeddings of the images a page was given (Files/Blobs, or URLs; paths in Node with a Node
 * decoder), made as evaluation makes them: the model's evaluation transform, l2-normalized
 * embeddings, through the library's `extractEmbeddings`.
 */
import { BrowserImageDecoder, DataLoader, RecordDataset, extractEmbeddings, type Embeddings, type ImageDecoder } from '../index.js';
import type { LoadedModel } from './loaded-model.js';

/** An image the page was given: a File/Blob, or a URL (a path in Node). */
export type ImageInput = Blob | string;

export interface EmbedOptions {
  /** Decoder of the images (default: the browser's codecs). */
  decoder?: ImageDecoder;
  /** Called after each image with the number done. */
  onProgress?: (done: number) => void;
}

/** One l2-normalized embedding per image (rows in the given order). */
export async function embedInputs(m: LoadedModel, images: readonly ImageInput[], options: EmbedOptions = {}): Promise<Embeddings> {
  const urls: string[] = [];
  const paths = images.map((img) => {
    if (typeof img === 'string') return img;
    const url = URL.createObjectURL(img);
    urls.push(url);
    return url;
  });
  const decoder = options.decoder ?? new BrowserImageDecoder();
  const dataset = new RecordDataset(paths.map((path) => ({ path, label: -1 })), decoder);
  const loader = new DataLoader({ dataset, transform: { kind: 'val', mode: m.crop, size: m.inputSize }, workers: 0, decoder });
  try {
    return await extractEmbeddings(m.model, loader, { batchSize: 1, bucketBySize: false, ...(options.onProgress ? { onProgress: options.onProgress } : {}) });
  } finally {
    await loader.close();
    urls.forEach((u) => URL.revokeObjectURL(u));
  }
}
