/**
 * `multigrain embed`: embeds a folder of images (walked recursively) or a list file into
 * OUT/embeddings.npy (float32 [N, D], row order of OUT/paths.txt), with the original's
 * evaluation preprocessing (rect: the whole image, longer side S). Chunked and resumable: a
 * rerun of the same command keeps the chunks done (see src/multigrain/retrieval/embed.ts).
 */
import { dirname, resolve, join } from 'node:path';
import { rm } from 'node:fs/promises';
import { parseOptions, optionsHelp } from './args.js';
import { openSource, applyPrecision, PRECISION_OPTIONS, defaultTestScale, lockOutput, checkImageSize, applyPoolingExponent, scaleOrigin } from './source.js';
import { rate } from './evaluate-command.js';
import { init } from '../engine/index.js';
import { ImageDecodeError, ImageListDataset, IMAGE_EXTENSIONS, walkImages, type ImageDataset, type ValidationMode } from '../data/index.js';
import { embedImages, ProgressBar, EMBED_FILES } from '../multigrain/index.js';
import { pathKind } from '../io/index.js';
import type { OptionTable, OptionValues } from '../util/options.js';

/** The options of `multigrain embed` (declared once: parser, types, defaults, ranges and help). */
export const EMBED_OPTIONS = {
  checkpoint: { flag: 'checkpoint', type: 'string', help: 'experiment folder or checkpoint (.safetensors, the original .pth)' },
  checkpointEpoch: { flag: 'checkpoint-epoch', type: 'int', help: 'for a folder: -1: last checkpoint, N: that epoch', default: -1, min: -1 },
  dataPath: { flag: 'data-path', type: 'string', help: 'folder of images (walked recursively)' },
  list: { flag: 'list', type: 'string', help: 'list file of image paths (relative to the list\'s folder), one a line' },
  output: { flag: 'output', type: 'string', help: 'output folder: embeddings.npy, paths.txt, embed_args.json' },
  inputSize: { flag: 'input-size', type: 'int', help: 'longer side (rect) or crop side (square) (default: the folder\'s test scale, else 500)', min: 1 },
  inputCrop: { flag: 'input-crop', type: 'string', help: 'rect: whole image, longer side = size; square: resize + center crop', choices: ['rect', 'square'], default: 'rect' },
  poolingExponent: { flag: 'pooling-exponent', type: 'number', help: 'override the GeM exponent p of the checkpoint (default: its pool.p, as finetune-p chose it)', min: 0, exclusiveMin: true },
  batchSize: { flag: 'batch-size', type: 'int', help: 'images per forward pass (rect images are grouped by output size)', default: 32, min: 1 },
  chunkSize: { flag: 'chunk-size', type: 'int', help: 'images per resumable chunk', default: 1024, min: 1 },
  maxChunks: { flag: 'max-chunks', type: 'int', help: 'stop after embedding N chunks (rerun to continue; 0: no limit)', default: 0, min: 0 },
  skipUnreadable: { flag: 'skip-unreadable', type: 'boolean', help: 'leave unreadable images out (listed in skipped.txt) instead of stopping' },
  safetensors: { flag: 'safetensors', type: 'boolean', help: 'also write embeddings.safetensors (tensor "embeddings")' },
  workers: { flag: 'workers', type: 'int', help: 'data loader worker threads', default: 2, min: 0 },
  ...PRECISION_OPTIONS,
} as const satisfies OptionTable;

export type EmbedFlags = OptionValues<typeof EMBED_OPTIONS>;

/** Skipped files printed at the end (all are in skipped.txt). */
const LIST_SKIPPED = 20;

export async function embedCommand(argv: string[]): Promise<void> {
  const f = parseOptions(argv, EMBED_OPTIONS) as EmbedFlags | null;
  if (!f) {
    console.log(optionsHelp('embed', 'Embeds a folder or list of images into OUT/embeddings.npy + OUT/paths.txt (resumable).', EMBED_OPTIONS));
    return;
  }
  if (f.checkpoint === undefined) throw new Error('--checkpoint <experiment folder or checkpoint file> is required');
  if (f.output === undefined) throw new Error('--output <folder> is required');
  await runEmbed(f, f.output);
}

/**
 * Embeds the images the flags name into `out` (all flags but --output; `multigrain index build
 * --data-path` calls it with OUT.embeddings). Returns whether the folder is complete (false
 * after --max-chunks stopped it early).
 */
export async function runEmbed(f: Omit<EmbedFlags, 'output'>, out: string): Promise<boolean> {
  if (f.checkpoint === undefined) throw new Error('--checkpoint <experiment folder or checkpoint file> is required');
  if ((f.dataPath === undefined) === (f.list === undefined)) throw new Error('give the images with one of --data-path <folder> or --list <file>');
  if ((await pathKind(f.checkpoint)) === null) throw new Error(`--checkpoint ${f.checkpoint}: no such file or folder`);
  const { images, extraArgs } = await imageSet(f);
  await init();
  const source = await openSource(f.checkpoint, f.checkpointEpoch);
  const { model, settings } = source;
  applyPrecision(model, f.precision, 'embed');
  const pLine = await applyPoolingExponent(source, f.poolingExponent);
  // the scale the checkpoint was adapted to (finetune-p, whiten), else its training size x 500/224, else 500 (a .pth)
  const size = f.inputSize ?? settings.testScale ?? defaultTestScale(settings.inputSize);
  const mode: ValidationMode = f.inputCrop as ValidationMode;
  checkImageSize(model, size, mode);
  console.log(`embed: ${pLine}; size ${size} (${f.inputSize !== undefined ? '--input-size' : scaleOrigin(source, {})})`);
  if (!model.whitening) console.warn('embed: the model is not whitened (run `multigrain whiten` first for the paper\'s retrieval setting)');
  const lock = await lockOutput(out, 'embed');
  try {
    console.log(`embedding ${images.length} images with ${source.file} at ${mode} ${size} into ${out}`);
    let bar: ProgressBar | null = null;
    const result = await embedImages(model, images, {
      output: out, mode, size, checkpoint: resolve(source.file), extraArgs, batchSize: f.batchSize, chunkSize: f.chunkSize,
      workers: f.workers, skipUnreadable: f.skipUnreadable ?? false, safetensors: f.safetensors ?? false,
      ...(f.maxChunks > 0 ? { maxChunks: f.maxChunks } : {}),
      onSkip: (file, message) => console.warn(`embed: skipping unreadable image ${file}: ${message}`),
    }, (p) => {
      // the bar counts this run's images, so its img/s is this run's rate
      bar ??= new ProgressBar('embed', p.total - p.done, 'img');
      bar.update(p.computed);
    }).catch((err: unknown) => {
      if (err instanceof ImageDecodeError) throw new Error(`${err.message} (--skip-unreadable leaves such files out; the chunks done are kept)`);
      throw err;
    });
    (bar as ProgressBar | null)?.finish();
    const reused = result.chunksReused ? `, ${result.chunksReused} chunk(s) done by an earlier run` : '';
    console.log(`embedded ${result.computedImages} images in ${result.batches} forward passes, ${rate(result.computedImages, result.seconds)} img/s${reused}`);
    if (result.skipped.length) {
      console.log(`skipped ${result.skipped.length} unreadable image(s)${result.complete ? ` (listed in ${join(out, EMBED_FILES.skipped)})` : ''}:`);
      for (const p of result.skipped.slice(0, LIST_SKIPPED)) console.log(`  ${p}`);
      if (result.skipped.length > LIST_SKIPPED) console.log(`  ... and ${result.skipped.length - LIST_SKIPPED} more`);
    }
    if (result.complete) {
      await rm(join(out, EMBED_FILES.chunks), { recursive: true, force: true });
      console.log(`wrote ${join(out, EMBED_FILES.embeddings)} [${result.rows}, ${result.dim}] and ${join(out, EMBED_FILES.paths)}${f.safetensors ? ` and ${EMBED_FILES.safetensors}` : ''}`);
    } else {
      console.log(`stopped after ${result.chunksComputed} chunk(s) (--max-chunks); rerun the same command to continue`);
    }
    return result.complete;
  } finally {
    await lock.release();
  }
}

/** The images the flags name, as absolute paths (paths.txt then opens from anywhere). */
async function imageSet(f: Omit<EmbedFlags, 'output'>): Promise<{ images: ImageDataset; extraArgs: Record<string, unknown> }> {
  if (f.list !== undefined) {
    const list = resolve(f.list);
    if ((await pathKind(list)) !== 'file') throw new Error(`--list ${f.list}: no such file`);
    const images = await ImageListDataset.open(list, { root: dirname(list) });
    if (images.length === 0) throw new Error(`--list ${f.list}: lists no images`);
    return { images, extraArgs: { list } };
  }
  const root = resolve(f.dataPath!);
  const kind = await pathKind(root);
  if (kind !== 'dir') throw new Error(`--data-path ${f.dataPath}: ${kind === null ? 'no such folder' : 'not a folder'}`);
  const paths = await walkImages(root);
  if (paths.length === 0) throw new Error(`--data-path ${f.dataPath}: no images there (looked for ${IMAGE_EXTENSIONS.join(' ')}, recursively)`);
  return { images: ImageListDataset.fromNames(root, paths), extraArgs: { dataPath: root } };
}
