/**
 * ImageNet (ILSVRC2012) validation in the devkit's layout: one flat folder of
 * `ILSVRC2012_val_NNNNNNNN.JPEG` files and a ground-truth list, instead of class folders. Two
 * lists are read:
 * - `LOC_val_solution.csv` (the Kaggle release): `ImageId,PredictionString`, the first word of
 *   the prediction string being the image's synset (wnid);
 * - `ILSVRC2012_validation_ground_truth.txt` (the devkit): line k = the ILSVRC2012_ID (1..1000)
 *   of image k, with a synset list whose line i is the wnid of ID i (the devkit's meta.mat
 *   order, which is not the sorted order, hence required).
 * Classes are the list's wnids sorted by code point: the order of torchvision's ImageFolder on
 * `train/`, so labels are those a model trained on the class folders predicts.
 */
import type { ImageDecoder } from '../decode.js';
import type { ImageRecord } from './common.js';
import { IMAGE_EXTENSIONS, RecordDataset, baseName, compareCodePoints, dirName, hasExtension, joinPath, listDir, pathKind, requireDir } from './common.js';
import { readFileBytes } from '../../io/node-files.js';

/** The ground-truth files looked for in the folder and beside it. */
export const IMAGENET_VAL_LABEL_FILES: readonly string[] = ['LOC_val_solution.csv', 'ILSVRC2012_validation_ground_truth.txt'];

/** Options of {@link ImagenetValDataset.open}. */
export interface ImagenetValOptions {
  /** The ground-truth list (default: one of IMAGENET_VAL_LABEL_FILES in the folder or its parent). */
  labels?: string;
  /** For ILSVRC2012_validation_ground_truth.txt: line i = the wnid of ILSVRC2012_ID i (words after it ignored). */
  synsets?: string;
  decoder?: ImageDecoder;
}

async function readLines(file: string, what: string): Promise<string[]> {
  let text: string;
  try {
    text = new TextDecoder().decode(await readFileBytes(file));
  } catch (e) {
    throw new Error(`ImageNet val: cannot read ${what} ${file}: ${(e as Error).message}`);
  }
  return text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
}

/** True when `dir` holds image files and no sub-folder (the devkit's flat validation folder). */
export async function isFlatImageFolder(dir: string): Promise<boolean> {
  if ((await pathKind(dir)) !== 'dir') return false;
  const { dirs, files } = await listDir(dir);
  return dirs.length === 0 && files.some((f) => hasExtension(f));
}

/** ImageNet validation images labeled by the devkit's ground truth. */
export class ImagenetValDataset extends RecordDataset {
  /** Sorted wnids; label i is classes[i]. */
  readonly classes: readonly string[];
  readonly root: string;
  /** The ground-truth file read. */
  readonly labelsFile: string;

  private constructor(root: string, labelsFile: string, classes: string[], records: ImageRecord[], decoder?: ImageDecoder) {
    super(records, decoder);
    this.root = root;
    this.labelsFile = labelsFile;
    this.classes = classes;
  }

  static async open(root: string, options: ImagenetValOptions = {}): Promise<ImagenetValDataset> {
    await requireDir(root, 'ImageNet val');
    const labelsFile = options.labels ?? (await findLabels(root));
    const wnidOf = new Map<string, string>();
    const lines = await readLines(labelsFile, 'ground-truth list');
    const { files } = await listDir(root);
    const images = files.filter((f) => hasExtension(f, IMAGE_EXTENSIONS));
    if (images.length === 0) throw new Error(`ImageNet val: no images in ${root}`);
    if (/\.csv$/i.test(labelsFile)) {
      for (const [n, line] of lines.entries()) {
        if (n === 0 && /^ImageId\s*,/i.test(line)) continue;
        const m = /^([^,]+),\s*(n\d{8})\b/.exec(line);
        if (!m) throw new Error(`ImageNet val: ${labelsFile} line ${n + 1} is not "ImageId,wnid ...": ${line.slice(0, 80)}`);
        wnidOf.set(m[1]!, m[2]!);
      }
    } else {
      if (options.synsets === undefined) {
        throw new Error(`ImageNet val: ${labelsFile} gives ILSVRC2012_IDs, which need a synset list (line i = the wnid of ID i, the devkit's meta.mat order): give --val-synsets <file>`);
      }
      const synsets = (await readLines(options.synsets, 'synset list')).map((l) => l.split(/\s+/)[0]!);
      // the devkit numbers the images 1..50000 in file-name order; line k is image k
      const ids = images.map((f) => f.slice(0, f.lastIndexOf('.'))).sort(compareCodePoints);
      if (lines.length < ids.length) throw new Error(`ImageNet val: ${labelsFile} has ${lines.length} lines for ${ids.length} images in ${root}`);
      ids.forEach((id, k) => {
        const num = /(\d+)$/.exec(id);
        const line = num ? Number(num[1]) - 1 : k;
        const cls = Number(lines[line]);
        const wnid = synsets[cls - 1];
        if (!Number.isInteger(cls) || wnid === undefined) {
          throw new Error(`ImageNet val: ${labelsFile} line ${line + 1} ('${lines[line]}') is not an ID in 1..${synsets.length} of ${options.synsets}`);
        }
        wnidOf.set(id, wnid);
      });
    }
    const classes = [...new Set(wnidOf.values())].sort(compareCodePoints);
    const index = new Map(classes.map((c, i) => [c, i]));
    const records = images.map((f) => {
      const id = f.slice(0, f.lastIndexOf('.'));
      const wnid = wnidOf.get(id);
      if (wnid === undefined) throw new Error(`ImageNet val: ${joinPath(root, f)} has no entry in ${labelsFile}`);
      return { path: joinPath(root, f), label: index.get(wnid)! };
    });
    return new ImagenetValDataset(root, labelsFile, classes, records, options.decoder);
  }
}

async function findLabels(root: string): Promise<string> {
  for (const dir of [root, dirName(root)]) {
    for (const name of IMAGENET_VAL_LABEL_FILES) {
      const file = joinPath(dir, name);
      if ((await pathKind(file)) === 'file') return file;
    }
  }
  throw new Error(`ImageNet val: ${baseName(root)}/ is a flat folder of images but no ground truth was found ` +
    `(${IMAGENET_VAL_LABEL_FILES.join(' or ')} in ${root} or ${dirName(root)}; or give --val-labels <file>)`);
}
