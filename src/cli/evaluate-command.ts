/**
 * `multigrain evaluate`: classification top-1 / top-5 of a trained model on a validation set,
 * or retrieval on INRIA Holidays (mAP), Copydays (mAP per attack family) and UKBench (N-S
 * score, out of 4). The trunk, width and classes come from the checkpoint itself; given an
 * experiment folder, its recorded settings (input size, validation mode, data) are the
 * defaults and flags override them.
 */
import { basename, dirname, join } from 'node:path';
import { parseOptions, optionsHelp } from './args.js';
import { writeRetrievalExamples } from './retrieval-examples.js';
import { writeFileAtomic } from '../io/index.js';
import {
  SOURCE_OPTIONS, IMAGE_OPTIONS, PRECISION_OPTIONS, applyPrecision, openSource, runData, knownClasses, checkImageSize, evaluationScale, imageLoaderOptions, reportSkipped, applyPoolingExponent, scaleOrigin, type Source,
} from './source.js';
import { init } from '../engine/index.js';
import { DataLoader, HolidaysDataset, CopydaysDataset, UkbenchDataset, COPYDAYS_SUBSETS, type CopydaysSubset, type RetrievalDataset } from '../data/index.js';
import { openValidationData, validate, evaluateRetrieval, inputNormalization } from '../multigrain/index.js';
import type { OptionTable, OptionValues } from '../util/options.js';

const RETRIEVAL = ['holidays', 'copydays', 'ukbench'] as const;
type RetrievalName = (typeof RETRIEVAL)[number];

/** The options of `multigrain evaluate` (declared once: parser, types, defaults and help). */
export const EVALUATE_OPTIONS = {
  ...SOURCE_OPTIONS,
  dataset: { flag: 'dataset', type: 'string', help: 'classification set (default: the run\'s, else fashion-mnist) or retrieval benchmark', choices: ['fashion-mnist', 'imagefolder', ...RETRIEVAL] },
  dataPath: { flag: 'data-path', type: 'string', help: 'dataset root (imagefolder: a folder with val/, class folders or the devkit\'s flat folder; holidays: with jpg/; ukbench: with full/; copydays: the originals and attack folders)' },
  inputSize: { flag: 'input-size', type: 'int', help: 'evaluation size (default: the run\'s, else 500 for a .pth, else 32; retrieval: the run\'s size x 500/224, else 500)', min: 1 },
  ...IMAGE_OPTIONS,
  ...PRECISION_OPTIONS,
  inputCrop: { ...IMAGE_OPTIONS.inputCrop, help: `${IMAGE_OPTIONS.inputCrop.help} (default: the run's, else rect for a .pth, fashion-mnist and retrieval, square for imagefolder)` },
  valMode: { flag: 'val-mode', type: 'string', help: 'deprecated: the former name of --input-crop', choices: ['square', 'rect'] },
  batchSize: { flag: 'batch-size', type: 'int', help: 'images per batch (rect mode groups the images by output size, so batches hold one size)', default: 100, min: 1 },
  poolingExponent: { flag: 'pooling-exponent', type: 'number', help: 'override the GeM exponent p of the checkpoint (default: its pool.p, as finetune-p chose it)', min: 0, exclusiveMin: true },
  valLabels: { flag: 'val-labels', type: 'string', help: 'imagefolder with a flat val/ (the ImageNet devkit layout): its ground truth, LOC_val_solution.csv or ILSVRC2012_validation_ground_truth.txt (default: found in val/ or beside it)' },
  valSynsets: { flag: 'val-synsets', type: 'string', help: 'with ILSVRC2012_validation_ground_truth.txt: a list whose line i is the wnid of ILSVRC2012_ID i' },
  valSubset: { flag: 'val-subset', type: 'int', help: 'classification: use the first N validation images only (0 = all)', default: 0, min: 0 },
  noHolidaysRotate: { flag: 'no-holidays-rotate', type: 'boolean', help: 'holidays: keep the images as stored (skip the release\'s rotation fix-up list)' },
  copydaysSubset: { flag: 'copydays-subset', type: 'string', help: 'copydays: the queries scored (the paper\'s figure: strong, with distractors)', choices: Object.keys(COPYDAYS_SUBSETS) as CopydaysSubset[], default: 'strong' },
  distractorsList: { flag: 'distractors-list', type: 'string', help: 'copydays: list file of distractor images' },
  distractorsPath: { flag: 'distractors-path', type: 'string', help: 'copydays: distractor folder (root of the list, or walked; default: <data-path>/distractors/ when present)' },
  numDistractors: { flag: 'num-distractors', type: 'int', help: 'copydays: keep the first N distractors (-1: all)', default: -1, min: -1 },
  examples: { flag: 'examples', type: 'int', help: 'retrieval: queries shown in <dataset>_examples.svg beside the checkpoint (0: no picture)', default: 8, min: 0 },
  workers: { flag: 'workers', type: 'int', help: 'data loader worker threads', default: 2 },
} as const satisfies OptionTable;

type EvaluateFlags = OptionValues<typeof EVALUATE_OPTIONS>;

export async function evaluateCommand(argv: string[]): Promise<void> {
  const f = parseOptions(argv, EVALUATE_OPTIONS) as EvaluateFlags | null;
  if (!f) {
    console.log(optionsHelp('evaluate', 'Classification top-1 / top-5, or retrieval mAP (Holidays, Copydays) and N-S (UKBench), of a trained model.', EVALUATE_OPTIONS));
    return;
  }
  if (f.valMode !== undefined) {
    if (f.inputCrop !== undefined && f.inputCrop !== f.valMode) throw new Error(`--val-mode ${f.valMode} and --input-crop ${f.inputCrop} disagree (--val-mode is the former name of --input-crop: give one)`);
    console.warn('evaluate: --val-mode is deprecated, use --input-crop (the original\'s name)');
    f.inputCrop = f.valMode;
  }
  await init();
  const source = await openSource(f.resumeFrom, f.resumeEpoch);
  applyPrecision(source.model, f.precision, 'evaluate');
  const pLine = await applyPoolingExponent(source, f.poolingExponent);
  const name = f.dataset ?? '';
  if ((RETRIEVAL as readonly string[]).includes(name)) await evaluateRetrievalBenchmark(source, name as RetrievalName, f, pLine);
  else await evaluateClassification(source, f, pLine);
}

async function evaluateClassification(source: Source, f: EvaluateFlags, pLine: string): Promise<void> {
  const { model, settings, file } = source;
  const { dataset, dataPath } = runData(f, settings);
  const { size, crop: mode } = evaluationScale(source, f, 'classification', dataset);
  console.log(`evaluate: ${pLine}; ${mode} ${size} (${scaleOrigin(source, f)})${model.whitening ? '; whitened (the checkpoint\'s PCA)' : ''}`);
  checkImageSize(model, size, mode);
  // The folders are matched to the classes the checkpoint records, by name; a checkpoint
  // that records none (a .pth, an older run) is matched through the training folder's.
  const devkit = { ...(f.valLabels !== undefined ? { labels: f.valLabels } : {}), ...(f.valSynsets !== undefined ? { synsets: f.valSynsets } : {}) };
  const data = await openValidationData(dataset, dataPath, f.valSubset, knownClasses(source), devkit);
  if (data.classes.length !== model.options.numClasses) throw new Error(`${file} has ${model.options.numClasses} classes, ${dataset} has ${data.classes.length}`);
  const loader = new DataLoader({ dataset: data.val, transform: { kind: 'val', mode, size, ...inputNormalization(model.options.backbone) }, workers: f.workers, ...imageLoaderOptions(f) });
  try {
    const r = await validate(model, loader, f.batchSize, 'evaluate');
    const read = data.val.length - loader.skipped;
    console.log(`${file}: top-1 ${r.top1.toFixed(2)}%, top-5 ${r.top5.toFixed(2)}%, cross-entropy ${r.cross_entropy.toFixed(4)} on ${read} images (${mode} ${size})`);
    reportSkipped('evaluate', [loader]);
  } finally {
    await loader.close();
  }
}

async function openBenchmark(name: RetrievalName, f: EvaluateFlags): Promise<RetrievalDataset> {
  if (f.dataPath === undefined) throw new Error(`--dataset ${name} needs --data-path <the benchmark's folder>`);
  const root = f.dataPath;
  if (name === 'holidays') return HolidaysDataset.open(root, { rotate: !f.noHolidaysRotate });
  if (name === 'ukbench') return UkbenchDataset.open(root);
  return CopydaysDataset.open(root, {
    variants: COPYDAYS_SUBSETS[f.copydaysSubset],
    ...(f.distractorsList !== undefined ? { distractorList: f.distractorsList } : {}),
    ...(f.distractorsPath !== undefined ? { distractorRoot: f.distractorsPath } : {}),
    ...(f.numDistractors >= 0 ? { numDistractors: f.numDistractors } : {}),
  });
}

async function evaluateRetrievalBenchmark(source: Source, name: RetrievalName, f: EvaluateFlags, pLine: string): Promise<void> {
  const { model, file } = source;
  const { size, crop: mode } = evaluationScale(source, f, 'retrieval');
  console.log(`evaluate: ${pLine}; ${mode} ${size} (${scaleOrigin(source, f)})${model.whitening ? '; whitened (the checkpoint\'s PCA)' : ''}`);
  checkImageSize(model, size, mode);
  const benchmark = await openBenchmark(name, f);
  if (!model.whitening) console.warn('evaluate: the model is not whitened (run `multigrain whiten` first for the paper\'s retrieval setting)');
  const loader = new DataLoader({ dataset: benchmark, transform: { kind: 'val', mode, size, ...inputNormalization(model.options.backbone) }, workers: f.workers, ...imageLoaderOptions(f) });
  try {
    const examples = f.examples;
    const r = await evaluateRetrieval(model, benchmark, loader, { batchSize: f.batchSize, progress: name, topK: examples > 0 ? 5 : 0 });
    const subset = benchmark instanceof CopydaysDataset ? `${f.copydaysSubset} subset, ${benchmark.numDistractors} distractors, ` : '';
    const where = `${benchmark.length} images, ${subset}${r.queries} queries, database ${r.databaseSize} (${mode} ${size})`;
    const main = name === 'ukbench' ? `N-S ${r.top4.toFixed(3)} / 4, mAP ${(100 * r.mAP).toFixed(2)}%` : `mAP ${(100 * r.mAP).toFixed(2)}%`;
    console.log(`${file}: ${name} ${main} on ${where}`);
    if (r.extraction) console.log(`  embedded ${r.extraction.images} images in ${r.extraction.batches} forward passes, ${rate(r.extraction.images, r.extraction.seconds)} img/s`);
    // per family, then each of its levels indented under it (Copydays)
    for (const [group, value] of Object.entries(r.groups)) {
      console.log(`${group.includes('/') ? '    ' : '  '}${group}: mAP ${(100 * value).toFixed(2)}% (${r.groupQueries[group]} queries)`);
    }
    if (loader.skipped > 0) console.warn(`evaluate: ${loader.skipped} image(s) skipped: their embeddings count as zero vectors, so the scores are not those of the full benchmark`);
    reportSkipped('evaluate', [loader]);
    const out = join(dirname(file), `${name}_results.json`);
    const summary = {
      dataset: name, checkpoint: file, inputSize: size, mode, ...(subset ? { copydaysSubset: f.copydaysSubset } : {}), mAP: r.mAP, top4: r.top4,
      groups: r.groups, groupQueries: r.groupQueries, queries: r.queries, databaseSize: r.databaseSize, skipped: loader.skippedFiles, ap: [...r.ap],
    };
    await writeFileAtomic(out, JSON.stringify(summary, null, 1) + '\n');
    if (examples > 0) {
      const picture = join(dirname(file), `${name}_examples.svg`);
      await writeRetrievalExamples(picture, `${name}: ${main}, ${basename(dirname(file))} at ${mode} ${size}`, benchmark, r, examples);
      console.log(`wrote ${out} and ${picture}`);
    } else console.log(`wrote ${out}`);
  } finally {
    await loader.close();
  }
}

/** Images per second, for the summary lines. */
export function rate(images: number, seconds: number): string {
  return (images / Math.max(seconds, 1e-3)).toFixed(1);
}
