/**
 * `multigrain classify IMAGE... --checkpoint C [--top 5] [--input-size S] [--input-crop square|rect] [--json]`:
 * the top-k classes of each image with their probabilities, named by the class names the
 * checkpoint records (multigrain train writes them). The size and crop default to the run's
 * validation transform (the checkpoint's recorded options), else 224 px square.
 */
import { parseOptions, optionsHelp, splitPositionals } from './args.js';
import { IMAGE_OPTIONS } from './source.js';
import { init } from '../engine/index.js';
import { nodeFileStore } from '../io/index.js';
import { classifyImages, classificationScale, openMultiGrain, resolveResume, type ImageClassification } from '../multigrain/index.js';
import type { ValidationMode } from '../data/index.js';
import type { OptionTable, OptionValues } from '../util/options.js';

export const CLASSIFY_OPTIONS = {
  checkpoint: { flag: 'checkpoint', type: 'string', help: 'checkpoint file (.safetensors of multigrain train, or a .pth), or an experiment folder (its last checkpoint)' },
  top: { flag: 'top', type: 'int', help: 'classes shown per image', default: 5, min: 1 },
  inputSize: { flag: 'input-size', type: 'int', help: 'evaluation size (default: the run\'s --input-size, else 224)', min: 1 },
  inputCrop: IMAGE_OPTIONS.inputCrop,
  exifOrientation: IMAGE_OPTIONS.exifOrientation,
  json: { flag: 'json', type: 'boolean', help: 'print JSON: [{ image, top: [{ label, name, probability }] }]' },
} as const satisfies OptionTable;

type ClassifyFlags = OptionValues<typeof CLASSIFY_OPTIONS>;

export async function classifyCommand(argv: string[]): Promise<void> {
  const { flags, positionals: images } = splitPositionals(argv, CLASSIFY_OPTIONS);
  const f = parseOptions(flags, CLASSIFY_OPTIONS) as ClassifyFlags | null;
  if (!f) {
    console.log(optionsHelp('classify', 'Usage: multigrain classify IMAGE... --checkpoint C\nPrints the top classes of each image with their probabilities.', CLASSIFY_OPTIONS));
    return;
  }
  if (f.checkpoint === undefined) throw new Error('--checkpoint <checkpoint file or experiment folder> is required');
  if (images.length === 0) throw new Error('no image given: multigrain classify IMAGE... --checkpoint C');
  for (const image of images) if (!(await nodeFileStore.stat(image))?.isFile) throw new Error(`${image}: no such image file`);
  const stat = await nodeFileStore.stat(f.checkpoint);
  if (!stat) throw new Error(`--checkpoint ${f.checkpoint}: no such file or folder`);
  const file = stat.isDirectory ? await resolveResume(f.checkpoint, -1) : f.checkpoint;
  if (!file) throw new Error(`--checkpoint ${f.checkpoint}: no checkpoint found in this folder`);
  await init();
  const { model, classes, meta } = await openMultiGrain(file);
  const scale = classificationScale(meta);
  const results = await classifyImages(model, images, {
    top: f.top,
    inputSize: f.inputSize ?? scale.inputSize,
    crop: (f.inputCrop as ValidationMode | undefined) ?? scale.crop,
    exifOrientation: f.exifOrientation === true,
    ...(classes ? { classes } : {}),
  });
  if (f.json) console.log(JSON.stringify(results, null, 2));
  else printTable(results, classes === undefined ? file : undefined);
}

/** One block per image: rank, probability, class name. `unnamed`: the checkpoint whose class names are unknown. */
function printTable(results: readonly ImageClassification[], unnamed: string | undefined): void {
  if (unnamed) console.log(`(${unnamed} records no class names: classes are shown by index)`);
  for (const r of results) {
    console.log(r.image);
    r.top.forEach((c, i) => console.log(`${String(i + 1).padStart(4)}  ${(100 * c.probability).toFixed(2).padStart(6)}%  ${c.name}`));
  }
}
