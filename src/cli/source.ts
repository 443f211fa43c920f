/**
 * What the commands after training share: opening the model of an experiment folder (or a
 * checkpoint file), the settings of the run that wrote it, and writing a derived model
 * (p-finetuned, whitened) as a new experiment folder that the next command can read.
 */
import { checkInputFits, openMultiGrain, resolveResume, checkpointName, type MultiGrain, type MultiGrainArchitecture, type KnownClasses } from '../multigrain/index.js';
import {
  joinPath, nodeFileStore, readTextFile, encodeCheckpoint, lockFolder, removeOrphanedTemps, type FileStore, type FolderLock,
} from '../io/index.js';
import type { ValidationMode } from '../data/index.js';
import type { OptionTable } from '../util/options.js';

/** The options every command after training shares: which model to read. */
export const SOURCE_OPTIONS = {
  resumeFrom: { flag: 'resume-from', type: 'string', help: 'experiment folder or checkpoint (.safetensors, the original .pth, or a torchvision ResNet .pth)' },
  resumeEpoch: { flag: 'resume-epoch', type: 'int', help: '-1: last checkpoint, N: that epoch', default: -1, min: -1 },
} as const satisfies OptionTable;

/**
 * The options of every command that reads images (evaluate, finetune-p, whiten, embed),
 * declared once so that they are named alike everywhere (`--input-crop` as in the original).
 * A command whose crop has a fixed default spreads `{ ...IMAGE_OPTIONS.inputCrop, default: 'rect' }`.
 */
export const IMAGE_OPTIONS = {
  inputCrop: { flag: 'input-crop', type: 'string', help: 'rect: the whole image, longest side = input size (no crop); square: resize + center crop', choices: ['rect', 'square'] },
  skipUnreadable: { flag: 'skip-unreadable', type: 'boolean', help: 'skip unreadable images with a warning (listed at the end) instead of stopping' },
  exifOrientation: { flag: 'exif-orientation', type: 'boolean', help: 'apply the EXIF orientation tag (default: the stored pixels, as PIL reads them in the original)' },
} as const satisfies OptionTable;

/** The loader options of IMAGE_OPTIONS' flags. */
export function imageLoaderOptions(f: { skipUnreadable?: boolean; exifOrientation?: boolean }): { skipUnreadable: boolean; exifOrientation: boolean } {
  return { skipUnreadable: f.skipUnreadable === true, exifOrientation: f.exifOrientation === true };
}

/** Prints the images a loader skipped (`--skip-unreadable`), so that a long run's losses are listed in one place. */
export function reportSkipped(command: string, loaders: readonly { skippedFiles: readonly string[] }[]): void {
  const files = loaders.flatMap((l) => l.skippedFiles);
  if (files.length === 0) return;
  console.warn(`${command}: skipped ${files.length} unreadable image(s):\n${files.map((f) => `  ${f}`).join('\n')}`);
}

/** True for a PyTorch weights file (the original release's `.pth`, or torchvision's). */
export function isPthFile(file: string): boolean {
  return /\.pth(\.tar)?$/i.test(file);
}

/** The size and crop an evaluation runs at, and where they came from. */
export interface EvaluationScale {
  size: number;
  crop: ValidationMode;
}

/**
 * The input size and crop of `evaluate`: the flags, else the experiment folder's recorded
 * settings, else the defaults. A `.pth` (no recorded settings) gets the original's evaluation
 * defaults, 500 px rect (its evaluate.py `--input-size 500 --input-crop rect`): evaluating a
 * 224-px ImageNet model at 32 px square would compare nothing with the paper.
 */
export function evaluationScale(
  source: { file: string; settings: RunSettings }, f: { inputSize?: number; inputCrop?: ValidationMode }, task: 'classification' | 'retrieval', dataset?: string,
): EvaluationScale {
  const { file, settings } = source;
  const pth = isPthFile(file);
  if (task === 'retrieval') {
    return { size: Number(f.inputSize ?? settings.testScale ?? defaultTestScale(settings.inputSize)), crop: f.inputCrop ?? 'rect' };
  }
  const crop = f.inputCrop ?? settings.valMode ?? (pth || dataset === 'fashion-mnist' ? 'rect' : 'square');
  const size = Number(f.inputSize ?? settings.inputSize ?? (pth ? 500 : 32));
  return { size, crop };
}

/**
 * Settings a folder's commands recorded (camelCase flags). The derived folders record the
 * dataset and the scale they were made at, so that the next command defaults to them.
 */
export interface RunSettings {
  dataset?: 'fashion-mnist' | 'imagefolder';
  dataPath?: string;
  inputSize?: number;
  valMode?: ValidationMode;
  /** Set by finetune-p and whiten: the test scale s* the model was adapted to. */
  testScale?: number;
  [flag: string]: unknown;
}

/** The settings files of a folder, most derived first. */
const SETTINGS_FILES = ['whiten_args.json', 'finetune_p_args.json', 'train_args.json'];

/** The settings recorded in an experiment folder ({} when it has none). */
export async function runSettings(dir: string, files: FileStore = nodeFileStore): Promise<RunSettings> {
  for (const name of SETTINGS_FILES) {
    const text = await readTextFile(files, joinPath(dir, name));
    if (text === null) continue;
    try {
      return JSON.parse(text) as RunSettings;
    } catch (err) {
      throw new Error(`${joinPath(dir, name)}: not valid JSON (${(err as Error).message})`);
    }
  }
  return {};
}

export interface Source {
  /** The checkpoint file read. */
  file: string;
  /** Settings of the folder (empty when a file was given). */
  settings: RunSettings;
  model: MultiGrain;
  architecture: MultiGrainArchitecture;
  /** The class names the checkpoint records (label order), if it records them. */
  classes?: readonly string[];
}

/** Opens `--resume-from` (folder: its checkpoint of `epoch`, -1 = the last; or a file). */
export async function openSource(from: string | undefined, epoch: number, files: FileStore = nodeFileStore): Promise<Source> {
  if (!from) throw new Error('--resume-from <experiment folder or checkpoint> is required');
  const isDir = (await files.stat(from))?.isDirectory ?? false;
  const file = isDir ? await resolveResume(from, epoch, files) : from;
  if (!file) throw new Error(`--resume-from ${from}: no checkpoint found there`);
  const settings = isDir ? await runSettings(from, files) : {};
  const { model, architecture, classes } = await openMultiGrain(file);
  return { file, settings, model, architecture, ...(classes ? { classes } : {}) };
}

/** The model's classes, for matching evaluation folders by name (undefined: the checkpoint records none). */
export function knownClasses(source: Source): KnownClasses | undefined {
  return source.classes ? { names: source.classes, of: `the model in ${source.file}` } : undefined;
}

/** The classification data a command reads: its flags, else the folder's run, else Fashion-MNIST (a --dataset flag drops the run's path). */
export function runData(f: { dataset?: unknown; dataPath?: unknown }, settings: RunSettings): { dataset: 'fashion-mnist' | 'imagefolder'; dataPath: string | undefined } {
  const dataset = (f.dataset ?? settings.dataset ?? 'fashion-mnist') as 'fashion-mnist' | 'imagefolder';
  const dataPath = (f.dataPath ?? (f.dataset === undefined ? settings.dataPath : undefined)) as string | undefined;
  return { dataset, dataPath };
}

/** Test scale s* by default: the paper's 500 px for a 224 px run, the same ratio for other runs. */
export function defaultTestScale(trainSize: number | undefined): number {
  return trainSize ? Math.round((trainSize * 500) / 224) : 500;
}

/** Writes `<command>_args.json` and the model as checkpoint_1 in a new experiment folder. */
export async function writeDerived(
  expdir: string, command: string, settings: RunSettings, model: MultiGrain, meta: Record<string, unknown>, files: FileStore = nodeFileStore,
): Promise<string> {
  await files.mkdir(expdir);
  await files.writeFileAtomic(joinPath(expdir, `${command.replace('-', '_')}_args.json`), JSON.stringify(settings, null, 2) + '\n');
  const file = joinPath(expdir, checkpointName(1));
  await files.writeFileAtomic(file, encodeCheckpoint({ groups: { model: await model.exportStateDict() }, meta: { command, ...meta } }));
  return file;
}

/**
 * Takes the lock of a command's output folder (one run per folder, as `train` does; a second
 * run on it fails naming the holder) and removes the temporary files that killed writes left
 * there. Release it in a `finally`.
 */
export async function lockOutput(expdir: string, command: string, files: FileStore = nodeFileStore): Promise<FolderLock> {
  const say = (line: string) => console.log(line);
  const lock = await lockFolder(files, expdir, command, say);
  try {
    await removeOrphanedTemps(files, expdir, say);
  } catch (err) {
    await lock.release();
    throw err;
  }
  return lock;
}

/**
 * Refuses, before any image is read, an evaluation size whose square image ([1, 3, S, S]) or
 * first feature map no GPU tensor could hold. Rect images (longest side S) have an unknown
 * shorter side; a size too large for them is refused by the resize, naming the flag.
 */
export function checkImageSize(model: MultiGrain, size: number, mode: ValidationMode): void {
  if (mode === 'square') checkInputFits(1, size, model.options.baseWidth, `--input-size ${size}`, 'use a smaller --input-size');
}
