/**
 * A plain list file of image paths relative to a root folder, one per line (the
 * MultiGrain whitening set and the Copydays distractors). Blank lines and lines starting
 * with '#' are skipped. Items have no label (-1).
 */
import type { ImageDecoder } from '../decode.js';
import { RecordDataset, dirName, joinPath } from './common.js';
import { readFileBytes } from '../../io/node-files.js';

/** Options of {@link ImageListDataset.open}. */
export interface ImageListOptions {
  /** Folder the listed paths are relative to (default: the list file's folder). */
  root?: string;
  /** Keep only the first `limit` entries (default all; negative = all). */
  limit?: number;
  decoder?: ImageDecoder;
}

/** Unlabelled images named by a list file. */
export class ImageListDataset extends RecordDataset {
  /** Listed paths, as written in the file. */
  readonly names: readonly string[];
  readonly root: string;

  private constructor(root: string, names: string[], decoder?: ImageDecoder) {
    super(names.map((n) => ({ path: n.startsWith('/') ? n : joinPath(root, n), label: -1 })), decoder);
    this.root = root;
    this.names = names;
  }

  /** Reads the list. A missing list file is an error naming it. */
  static async open(listFile: string, options: ImageListOptions = {}): Promise<ImageListDataset> {
    let text: string;
    try {
      text = new TextDecoder().decode(await readFileBytes(listFile));
    } catch (e) {
      throw new Error(`ImageList: cannot read list file ${listFile}: ${(e as Error).message}`);
    }
    let names = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
    if (options.limit !== undefined && options.limit >= 0) names = names.slice(0, options.limit);
    return new ImageListDataset(options.root ?? dirName(listFile), names, options.decoder);
  }

  /** A list given in memory (paths relative to `root`). */
  static fromNames(root: string, names: readonly string[], decoder?: ImageDecoder): ImageListDataset {
    return new ImageListDataset(root, [...names], decoder);
  }
}
