/**
 * UKBench (release layout: `root/full/ukbenchNNNNN.jpg`, or the jpgs directly in `root`):
 * images sorted by their number, groups of 4 consecutive images (the original loader
 * grouped an unsorted glob; not repeated here).
 *
 * Protocol: every image is a query against the whole database, itself included; its 4
 * group images are the positives; N-S score = mean number of positives in the top 4.
 */
import type { ImageDecoder } from '../decode.js';
import type { RetrievalDataset, RetrievalTruth } from './common.js';
import { RecordDataset, compareCodePoints, fileNumber, joinPath, pathKind, requireDir, walkImages } from './common.js';

/** Options of {@link UkbenchDataset.open}. */
export interface UkbenchOptions {
  decoder?: ImageDecoder;
}

/** UKBench retrieval benchmark. */
export class UkbenchDataset extends RecordDataset implements RetrievalDataset {
  readonly queries: Int32Array;
  readonly database: Int32Array;
  readonly groundTruth: readonly RetrievalTruth[];

  private constructor(paths: string[], decoder?: ImageDecoder) {
    super(paths.map((path, i) => ({ path, label: Math.floor(i / 4) })), decoder);
    this.queries = Int32Array.from(paths, (_, i) => i);
    this.database = this.queries;
    this.groundTruth = paths.map((_, i) => {
      const g = Math.floor(i / 4) * 4;
      return { positives: [g, g + 1, g + 2, g + 3], ignore: [] };
    });
  }

  /** Scans the release folder; the image count must be a multiple of 4. */
  static async open(root: string, options: UkbenchOptions = {}): Promise<UkbenchDataset> {
    await requireDir(root, 'UKBench');
    const dir = (await pathKind(joinPath(root, 'full'))) === 'dir' ? joinPath(root, 'full') : root;
    const files = await walkImages(dir, ['.jpg', '.jpeg']);
    if (files.length === 0) throw new Error(`UKBench: no .jpg images in ${dir} (expected root/full/ukbenchNNNNN.jpg)`);
    const keyed = files.map((path) => ({ path, n: fileNumber(path) }));
    keyed.sort((a, b) => (a.n !== null && b.n !== null && a.n !== b.n ? a.n - b.n : compareCodePoints(a.path, b.path)));
    if (keyed.length % 4 !== 0) {
      throw new Error(`UKBench: ${keyed.length} images in ${dir} is not a multiple of 4 (groups of 4 consecutive images)`);
    }
    return new UkbenchDataset(keyed.map((k) => k.path), options.decoder);
  }
}
