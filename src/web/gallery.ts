/**
 * A gallery of the user's images for near-duplicate search: one l2-normalized embedding per
 * image, searched exactly (cosine similarity = dot product of unit vectors, on the host: a page's
 * gallery is hundreds of images, not millions), exported as .npy.
 */
import { encodeNpy } from '../index.js';
import { embedInputs, type ImageInput, type EmbedOptions } from './inference.js';
import type { LoadedModel } from './loaded-model.js';

/** One neighbour: the gallery position, its name and cosine similarity. */
export interface GalleryHit {
  index: number;
  name: string;
  score: number;
}

export class Gallery {
  /** Embeddings, rows × dim. */
  readonly embeddings: Float32Array;

  private constructor(readonly names: readonly string[], embeddings: Float32Array, readonly dim: number) {
    this.embeddings = embeddings;
  }

  /** Embeds the images with the model; `names` label them (file names). */
  static async build(m: LoadedModel, images: readonly ImageInput[], names: readonly string[], options: EmbedOptions = {}): Promise<Gallery> {
    if (names.length !== images.length) throw new Error(`Gallery: ${images.length} images but ${names.length} names`);
    if (images.length === 0) throw new Error('Gallery: no images (drop image files or pick a folder)');
    const out = await embedInputs(m, images, options);
    return new Gallery(names, out.data, out.dim);
  }

  get size(): number {
    return this.names.length;
  }

  /** Row i of the embeddings (a view). */
  embedding(i: number): Float32Array {
    return this.embeddings.subarray(i * this.dim, (i + 1) * this.dim);
  }

  /** The k most similar gallery images to a unit query vector, best first (ties: lower index). */
  search(query: Float32Array, k = 10): GalleryHit[] {
    if (query.length !== this.dim) throw new Error(`Gallery.search: a ${query.length}-d query for a ${this.dim}-d gallery (another model?)`);
    const hits: GalleryHit[] = [];
    for (let i = 0; i < this.size; i++) {
      const row = this.embedding(i);
      let s = 0;
      for (let d = 0; d < this.dim; d++) s += row[d]! * query[d]!;
      hits.push({ index: i, name: this.names[i]!, score: s });
    }
    return hits.sort((a, b) => b.score - a.score || a.index - b.index).slice(0, Math.min(k, hits.length));
  }

  /** The embeddings as a float32 .npy file (rows × dim, row r = image r). */
  toNpy(): Uint8Array {
    return encodeNpy({ dtype: 'float32', shape: [this.size, this.dim], data: this.embeddings });
  }
}
