/**
 * What the commands after training share: opening the model of an experiment folder (or a
 * checkpoint file), the settings of the run that wrote it, and writing a derived model
 * (p-finetuned, whitened) as a new experiment folder that the next command can read.
 */
import { checkInputFits, openMultiGrain, metaRecord, checkpointScale, resolveResume, checkpointName, type MultiGrain, type MultiGrainArchitecture, type KnownClasses } from '../multigrain/index.js';
import {
  joinPath, nodeFileStore, readTextFile, encodeCheckpoint, lockFolder, removeOrphanedTemps, type FileStore, type FolderLock,
} from '../io/index.js';
import type { ValidationMode } from '../data/index.js';
import type { PrecisionSetting } from '../engine/index.js';
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

/** The inference precision flag of the commands that embed or classify images (evaluate, embed). */
export const PRECISION_OPTIONS = {
  precision: {
    flag: 'precision', type: 'string', choices: ['f32', 'f16', 'auto'], default: 'f32',
    help: "f16: half-precision weights and activations (f32 accumulation) where the GPU has 'shader-f16', else f32 with a note; auto: f16 where available",
  },
} as const satisfies OptionTable;

/** Sets the model's inference precision from the flag and says which it runs with and why. */
export function applyPrecision(model: MultiGrain, setting: string, command: string): void {
  const { precision, reason } = model.setPrecision(setting as PrecisionSetting);
  if (setting === 'f16' && precision !== 'f16') console.warn(`${command}: ${reason}`);
  else console.log(`${command}: ${reason}`);
}

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

/** The settings recorded in an experiment folder ({} when it has none), and the file they come from. */
export async function runSettings(dir: string, files: FileStore = nodeFileStore): Promise<RunSettings> {
  return (await readRunSettings(dir, files)).settings;
}

async function readRunSettings(dir: string, files: FileStore): Promise<{ settings: RunSettings; from?: string }> {
  for (const name of SETTINGS_FILES) {
    const file = joinPath(dir, name);
    const text = await readTextFile(files, file);
    if (text === null) continue;
    try {
      return { settings: JSON.parse(text) as RunSettings, from: file };
    } catch (err) {
      throw new Error(`${file}: not valid JSON (${(err as Error).message})`);
    }
  }
  return originalRunSettings(dir, files);
}

/**
 * The original's settings files that record a test scale (yaml.dump of its arguments), most
 * derived first. Its train_args.yaml is not read: the original evaluates a trained model at its
 * evaluate.py default (500), not at the training size.
 */
const ORIGINAL_SETTINGS_FILES = ['whiten_args.yaml', 'finetune_p_args.yaml'];

/**
 * The test scale a finetune_p.py or whiten.py folder of the original release records in its
 * arguments file (`input_size`, `input_crop`; its scripts dump their arguments as YAML). Only
 * these two scalars are read.
 */
async function originalRunSettings(dir: string, files: FileStore): Promise<{ settings: RunSettings; from?: string }> {
  for (const name of ORIGINAL_SETTINGS_FILES) {
    const file = joinPath(dir, name);
    const text = await readTextFile(files, file);
    if (text === null) continue;
    const size = /^input_size:\s*(\d+)\s*$/m.exec(text);
    const crop = /^input_crop:\s*['"]?(rect|square)['"]?\s*$/m.exec(text);
    const settings: RunSettings = {
      ...(size ? { inputSize: Number(size[1]), testScale: Number(size[1]) } : {}),
      ...(crop ? { valMode: crop[1] as ValidationMode } : {}),
    };
    return { settings, from: file };
  }
  return { settings: {} };
}

export interface Source {
  /** The checkpoint file read. */
  file: string;
  /**
   * Settings of the folder, over those the checkpoint's metadata records (the test scale of a
   * finetune-p or whiten checkpoint), so that a checkpoint given alone keeps its scale.
   */
  settings: RunSettings;
  /** Where `settings` come from (a settings file, the checkpoint's metadata), for the messages; undefined when nothing was recorded. */
  settingsFrom?: string;
  /** How the checkpoint's p was chosen, as its metadata says ('fine-tuning', 'cross-validation'), if it says. */
  pFrom?: string;
  model: MultiGrain;
  architecture: MultiGrainArchitecture;
  /** The class names the checkpoint records (label order), if it records them. */
  classes?: readonly string[];
}

/** Opens `--resume-from` (folder: its checkpoint of `epoch`, -1 = the last; or a file). */
export async function openSource(from: string | undefined, epoch: number, files: FileStore = nodeFileStore): Promise<Source> {
  if (!from) throw new Error('--resume-from <experiment folder or checkpoint> is required');
  const isDir = (await files.stat(from))?.isDirectory ?? false;
  const file = isDir ? (await resolveResume(from, epoch, files)) ?? (await originalCheckpoint(from, epoch, files)) : from;
  if (!file) throw new Error(`--resume-from ${from}: no checkpoint found there (checkpoint_<epoch>.safetensors, or the original's checkpoint_<epoch>.pth)`);
  const folder = isDir ? await readRunSettings(from, files) : { settings: {} };
  const opened = await openMultiGrain(file);
  const { model, architecture, classes } = opened;
  const meta = metaRecord(opened.meta);
  const scale = checkpointScale(meta);
  const recorded: RunSettings = scale ? { inputSize: scale.testScale, testScale: scale.testScale, valMode: scale.inputCrop } : {};
  const settings = { ...recorded, ...folder.settings };
  const settingsFrom = folder.from ?? (scale ? `the metadata of ${file}` : undefined);
  const pFrom = typeof meta?.pFrom === 'string' ? meta.pFrom : undefined;
  return { file, settings, model, architecture, ...(settingsFrom ? { settingsFrom } : {}), ...(pFrom ? { pFrom } : {}), ...(classes ? { classes } : {}) };
}

const ORIGINAL_CHECKPOINT = /^checkpoint_(\d+)\.pth$/;

/**
 * The checkpoint of one of the original release's experiment folders (its CheckpointHandler
 * writes `checkpoint_<epoch>.pth`): the highest epoch, or `epoch` when >= 1; null when there is none.
 */
async function originalCheckpoint(dir: string, epoch: number, files: FileStore): Promise<string | null> {
  const epochs = (await files.list(dir)).map((n) => ORIGINAL_CHECKPOINT.exec(n)).filter((m): m is RegExpExecArray => !!m).map((m) => Number(m[1])).sort((a, b) => a - b);
  if (epochs.length === 0) return null;
  if (epoch >= 1 && !epochs.includes(epoch)) throw new Error(`--resume-epoch ${epoch}: no checkpoint_${epoch}.pth in ${dir} (found epochs ${epochs.join(', ')})`);
  return joinPath(dir, `checkpoint_${epoch >= 1 ? epoch : epochs[epochs.length - 1]}.pth`);
}

/**
 * Sets the GeM exponent from a flag (which wins over the checkpoint's) and says which p the
 * command uses and where it comes from: `p = 2.3 (pool.p of FILE, chosen by cross-validation)`.
 */
export async function applyPoolingExponent(source: Source, flag: number | undefined, flagName = '--pooling-exponent'): Promise<string> {
  if (flag !== undefined) {
    source.model.pool.p.assign(Float32Array.of(flag));
    return `p = ${flag} (${flagName})`;
  }
  const p = (await source.model.pool.p.item()) as number;
  const stored = source.architecture.poolingExponent !== undefined;
  const how = source.pFrom ? `, chosen by ${source.pFrom}` : '';
  return `p = ${Number(p.toFixed(6))} (${stored ? `pool.p of ${source.file}${how}` : `${source.file} stores none: the default`})`;
}

/** Says where an evaluation's size and crop come from: the flags, the recorded settings, or the defaults. */
export function scaleOrigin(source: Source, f: { inputSize?: number; inputCrop?: string }): string {
  if (f.inputSize !== undefined && f.inputCrop !== undefined) return 'from the flags';
  const recorded = source.settingsFrom ? `from ${source.settingsFrom}` : `the default for ${isPthFile(source.file) ? 'a .pth (the original\'s evaluate.py)' : 'a checkpoint with no recorded scale'}`;
  if (f.inputSize !== undefined) return `--input-size; crop ${recorded}`;
  if (f.inputCrop !== undefined) return `--input-crop; size ${recorded}`;
  return recorded;
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
