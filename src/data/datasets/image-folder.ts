/**
 * torchvision-style ImageFolder: `root/<class>/<image>` (sub-folders of a class are walked too), classes = sub-folder names
 * sorted by code point, label = rank of the class, images sorted inside each class.
 */
import type { ImageDecoder } from '../decode.js';
import type { ImageRecord } from './common.js';
import { IMAGE_EXTENSIONS, RecordDataset, joinPath, listDir, requireDir, walkImages } from './common.js';

/** Options of {@link ImageFolderDataset.open}. */
export interface ImageFolderOptions {
  /** Accepted file extensions (lower case, with dot). Default: torchvision's list. */
  extensions?: readonly string[];
  /** Allow class folders without images (default false: such a folder is an error). */
  allowEmptyClasses?: boolean;
  decoder?: ImageDecoder;
}

/** Labelled images in class folders. */
export class ImageFolderDataset extends RecordDataset {
  /** Class names, sorted; label i is classes[i]. */
  readonly classes: readonly string[];
  readonly root: string;

  private constructor(root: string, classes: string[], records: ImageRecord[], decoder?: ImageDecoder) {
    super(records, decoder);
    this.root = root;
    this.classes = classes;
  }

  /** Scans `root`. Errors name the missing root or the empty class folder. */
  static async open(root: string, options: ImageFolderOptions = {}): Promise<ImageFolderDataset> {
    await requireDir(root, 'ImageFolder');
    const extensions = options.extensions ?? IMAGE_EXTENSIONS;
    const { dirs } = await listDir(root);
    if (dirs.length === 0) throw new Error(`ImageFolder: no class folders in ${root} (expected root/<class>/<image>)`);
    const records: ImageRecord[] = [];
    for (let label = 0; label < dirs.length; label++) {
      const dir = joinPath(root, dirs[label]!);
      const files = await walkImages(dir, extensions);
      if (files.length === 0 && !options.allowEmptyClasses) {
        throw new Error(`ImageFolder: class folder ${dir} holds no image files (accepted: ${extensions.join(' ')})`);
      }
      for (const path of files) records.push({ path, label });
    }
    return new ImageFolderDataset(root, dirs, records, options.decoder);
  }

  /** Index of a class name. */
  classIndex(name: string): number {
    const i = this.classes.indexOf(name);
    if (i < 0) throw new Error(`ImageFolder: unknown class "${name}"`);
    return i;
  }
}
