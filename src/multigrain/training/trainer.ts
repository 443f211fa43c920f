/**
 * `train`: MultiGrain training end to end, as in the paper and the original release: RA batches, joint loss
 * lambda * CE + (1 - lambda) * margin with distance-weighted sampling, SGD with the beta
 * group, step LR schedule, per-epoch validation, checkpoints every epoch (atomic), exact
 * resume, metrics history as JSON and curves as SVG.
 *
 * Determinism: the sampler's permutation, each sample's augmentation and the triplet
 * sampling are functions of (seed, epoch, position / step) and every kernel is free of
 * atomics, so a run resumed from a checkpoint continues exactly as an uninterrupted run.
 */
import {
  type Tensor, type Shape, init, tensor, tidy, backward, noGrad, keep, crossEntropy, topkCorrect, addScalar, mulScalar,
  add, concat, reshape, SGD, parameter, augmentImages,
} from '../../engine/index.js';
import { DataLoader, RASampler, gpuAugmentApplies, AUGMENT_PARAMS_PER_IMAGE, type HostBatch, type TransformSpec, type ImageTransform } from '../../data/index.js';
import {
  joinPath, lockFolder, nodeFileStore, readTextFile, removeOrphanedTemps, torchFileFormat, type FileStore,
} from '../../io/index.js';
import { MultiGrain } from '../model.js';
import { sampledMarginLoss } from '../losses/index.js';
import { openClassificationData } from '../data-source.js';
import { checkTrainData, splitTrainInputs, stopRequested, trainingOutputs, type TrainData, type TrainInputs, type TrainableModel } from './inputs.js';
import { loadPretrainedTrunk, pretrainedTrunkOptions } from '../weights.js';
import { inputNormalization } from '../backbone.js';
import { checkInputFits } from '../input-size.js';
import { TRAIN_DEFAULTS, changedTrainOptions, validateTrainOptions, type TrainOptions } from './options.js';
import { GpuMetrics, classificationSums, type StepMetric } from './metrics.js';
import { ProgressBar } from './progress.js';
import { sumOverEvaluation } from './evaluation-sums.js';
import { baseLearningRate, stepLrFactor, warmupFactor } from './schedule.js';
import { samplingLine, samplingReplicas } from './sampling.js';
import { GradientAccumulation } from './accumulation.js';
import { checkpointName, decodeCheckpointFile, hostCopy, listCheckpoints, optimizerState, pruneCheckpoints, resolveResume, saveCheckpoint } from './checkpoints.js';
import { writeCurves } from './curves.js';

export interface EpochRecord {
  epoch: number;
  /** The backbone group's scheduled learning rate of the epoch (after any warmup). */
  lr: number;
  /** The scheduled learning rate of each parameter group (`backbone`, `margin_beta`), as applied. */
  lrs?: Record<string, number>;
  train?: Record<StepMetric, number> & { images_per_s: number };
  val?: { cross_entropy: number; top1: number; top5: number };
  seconds: number;
}

/** Training metrics of one log window (x = fractional epoch). */
export interface StepRecord {
  epoch: number;
  loss: number;
  cross_entropy: number;
  margin: number;
  beta: number;
  top1: number;
  /** Learning rate of the window's last step (it moves within an epoch during warmup). */
  lr: number;
}

export interface TrainResult<M extends TrainableModel = MultiGrain> {
  model: M;
  history: EpochRecord[];
  /** Path of the last checkpoint written. */
  checkpoint: string | null;
  /** True when a stop (signal or shouldStop) ended the run before its last epoch. */
  stopped: boolean;
}

interface TrainState<M extends TrainableModel = TrainableModel> {
  model: M;
  beta: Tensor;
  /** One optimizer, two parameter groups: `backbone` (the network, with weight decay) and `margin_beta`. */
  opt: SGD;
  paramNames: Map<Tensor, string>;
  history: EpochRecord[];
  steps: StepRecord[];
  startEpoch: number;
  /** The library inputs (callbacks, stop signal); empty for the CLI. */
  inputs: TrainInputs<TrainableModel>;
}

/**
 * Trains a MultiGrain network (or your own model); see TrainOptions for every setting and
 * TrainInputs for your own data, transforms, model, callbacks and stop signal. The experiment
 * folder's files (arguments, checkpoints, metrics, curves) go through `files` (default: the
 * local disk; in a page, a `MemoryFileStore`).
 */
export async function train<M extends TrainableModel = MultiGrain>(
  partial: Partial<TrainOptions> & TrainInputs<M>,
  log: (line: string) => void = (l) => console.log(l),
  files: FileStore = nodeFileStore,
): Promise<TrainResult<M>> {
  const { options, inputs } = splitTrainInputs(partial);
  const o: TrainOptions = { ...TRAIN_DEFAULTS, ...options };
  validateTrainOptions(o);
  if (inputs.data) checkTrainData(inputs.data);
  await init();
  if (!inputs.model) checkInputFits(o.batchSize, o.inputSize, o.baseWidth, `--batch-size ${o.batchSize} and --input-size ${o.inputSize}`, 'lower one of them, or use --gradient-accum');
  // One run per folder: a second run on it fails here, before it overwrites anything.
  const lock = await lockFolder(files, o.expdir, 'train', log);
  try {
    await removeOrphanedTemps(files, o.expdir, log);
    await checkSavedArgs(o, log, files);
    const { forceArgs: _, ...saved } = o; // how this run was resumed is no setting of the run
    await files.writeFileAtomic(joinPath(o.expdir, 'train_args.json'), JSON.stringify(saved, null, 2) + '\n');
    return (await trainInFolder(o, inputs as TrainInputs<TrainableModel>, log, files)) as TrainResult<M>;
  } finally {
    await lock.release();
  }
}

/**
 * Refuses to go on in a folder that holds a run (checkpoints) whose train_args.json differs from
 * `o` in an option that shapes the run, naming each difference, unless --force-args is given
 * (then the differences are listed and the run goes on).
 */
async function checkSavedArgs(o: TrainOptions, log: (line: string) => void, files: FileStore): Promise<void> {
  if ((await listCheckpoints(o.expdir, files)).length === 0) return; // nothing to resume or overwrite
  const path = joinPath(o.expdir, 'train_args.json');
  const text = await readTextFile(files, path);
  if (text === null) return;
  let saved: Record<string, unknown>;
  try {
    saved = JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    if (o.forceArgs) return;
    throw new Error(`${path}: not valid JSON (${(err as Error).message}); --force-args overwrites it with this run's options`);
  }
  const changes = changedTrainOptions(saved, o);
  if (changes.length === 0) return;
  const list = changes.map((c) => c.text).join(', ');
  if (!o.forceArgs) {
    throw new Error(
      `${o.expdir} holds a run with other options than these (${path}): ${list}. ` +
        `${o.resumeEpoch === 0 ? 'Starting over (--resume-epoch 0) would overwrite its checkpoints' : 'Resuming would mix two settings in one run'}. ` +
        'Use the saved values, another --expdir, or --force-args to go on with the new ones.',
    );
  }
  log(`--force-args: going on in ${o.expdir} with options that differ from its train_args.json: ${list} (train_args.json rewritten)`);
}

/** The run itself, with the folder locked and train_args.json written. */
async function trainInFolder(o: TrainOptions, inputs: TrainInputs<TrainableModel>, log: (line: string) => void, files: FileStore): Promise<TrainResult<TrainableModel>> {
  await init();
  const data: TrainData = inputs.data ?? await openClassificationData(o.dataset, o.dataPath, o.trainSubset, o.valSubset);
  const state = await buildState(o, data, inputs, log, files);
  // A last batch of one image is dropped: batchnorm cannot train on it (PyTorch raises there
  // too; the original's loader keeps drop_last=False and so fails on such an epoch).
  const sampler = new RASampler(data.train.length, {
    batchSize: o.batchSize, repetitions: o.repeatedAugmentations, lengthFactor: o.epochLenFactor, seed: o.seed, minBatchSize: MIN_TRAIN_BATCH,
  });
  if (sampler.batchesPerEpoch === 0) {
    throw new Error(
      `an epoch of ${sampler.epochLength} sample(s) (${data.train.length} training images x --epoch-len-factor ${o.epochLenFactor}) ` +
        `holds no training batch: batchnorm needs at least ${MIN_TRAIN_BATCH} images per batch`,
    );
  }
  const loaderOptions = { workers: o.workers, skipUnreadable: o.skipUnreadable, onNote: log };
  const transform = trainTransform(o, inputs);
  const gpuAugment = o.gpuAugment && gpuAugmentApplies(data.train, transform);
  const trainLoader = new DataLoader({ dataset: data.train, transform, seed: o.seed, gpuAugment, ...loaderOptions });
  if (gpuAugment) log('training batches: uint8 crops, colour augmentation and normalisation on the GPU (--no-gpu-augment: on the CPU)');
  const valLoader = data.val ? new DataLoader({ dataset: data.val, transform: valTransform(o, inputs), ...loaderOptions }) : null;
  const runValidation = () => (valLoader ? validate(state.model, valLoader, o.batchSize, o.progress ? 'validation' : undefined) : Promise.resolve(undefined));
  const baseLr = baseLearningRate(o.learningRate, o.lrScaling, o.batchSize * o.gradientAccum);
  log(learningRateLine(o, baseLr));
  if (o.classifWeight < 1) log(samplingLine(samplingReplicas(o), o.batchSize));
  let lastCheckpoint: string | null = null;
  let stopped = false;
  try {
    if (o.validateFirst && valLoader && state.startEpoch === 0 && state.history.length === 0) {
      const val = (await runValidation())!;
      state.history.push({ epoch: 0, lr: baseLr, val, seconds: 0 });
      log(`epoch 0 (before training): val top-1 ${val.top1.toFixed(2)}% top-5 ${val.top5.toFixed(2)}% CE ${val.cross_entropy.toFixed(4)}`);
    }
    for (let epoch = state.startEpoch; epoch < o.epochs; epoch++) {
      const started = Date.now();
      const lr = baseLr * stepLrFactor(epoch, o.lrDropsEpochs, o.lrDropsFactors);
      setLr(state, lr, o.betaLr);
      const lrs = groupLrs(state);
      log(`epoch ${epoch + 1}/${o.epochs}: learning rate ${Object.entries(lrs).map(([g, v]) => `${g} ${v}`).join(', ')}${epoch < o.warmupEpochs ? ' (reached by the warmup over the epoch)' : ''}`);
      const trainMetrics = stopRequested(inputs) ? null : await trainEpoch(state, o, sampler, trainLoader, epoch, lr, log);
      if (!trainMetrics || stopRequested(inputs)) {
        stopped = true;
        log(`stopped in epoch ${epoch + 1}: it is not saved; training resumes from ${lastCheckpoint ?? (state.startEpoch > 0 ? `epoch ${state.startEpoch}'s checkpoint` : 'the start')}`);
        break;
      }
      const val = await runValidation();
      const record: EpochRecord = { epoch: epoch + 1, lr, lrs, train: trainMetrics, ...(val ? { val } : {}), seconds: (Date.now() - started) / 1000 };
      state.history.push(record);
      log(
        `epoch ${epoch + 1}/${o.epochs}: train loss ${trainMetrics.loss.toFixed(4)} top-1 ${trainMetrics.top1.toFixed(2)}% | ` +
          (val ? `val top-1 ${val.top1.toFixed(2)}% top-5 ${val.top5.toFixed(2)}% | ` : '') + `${trainMetrics.images_per_s.toFixed(1)} img/s`,
      );
      await inputs.onEpoch?.(record);
      lastCheckpoint = await saveEpoch(state, o, epoch + 1, data.classes, files);
      await inputs.onCheckpoint?.({ path: lastCheckpoint, epoch: epoch + 1, files });
    }
  } finally {
    await trainLoader.close();
    await valLoader?.close();
    state.opt.dispose();
  }
  if (lastCheckpoint === null) {
    // Say so: metrics.json, steps.json, the curves and checkpoints are written after a trained epoch only.
    const reached = state.startEpoch > 0 ? `; the run in ${o.expdir} already reached epoch ${state.startEpoch}` : '';
    log(`no epoch trained (--epochs ${o.epochs}${reached}): wrote train_args.json only, no checkpoint, metrics.json or curves`);
  }
  return { model: state.model, history: state.history, checkpoint: lastCheckpoint, stopped };
}

/** The training pipeline: the caller's, or the options' augmentation recipe. */
function trainTransform(o: TrainOptions, inputs: TrainInputs<TrainableModel>): TransformSpec | ImageTransform {
  return inputs.transforms?.train ?? { kind: 'train', recipe: o.augmentation, size: o.inputSize, cropScale: o.cropScale, ...inputNormalization(o.backbone) };
}

/** The validation pipeline: the caller's, or the options' evaluation transform. */
function valTransform(o: TrainOptions, inputs: TrainInputs<TrainableModel>): TransformSpec | ImageTransform {
  return inputs.transforms?.val ?? { kind: 'val', mode: o.valMode, size: o.inputSize, ...inputNormalization(o.backbone) };
}

/** Writes epoch `epoch`'s checkpoint (atomically), prunes the older ones and rewrites the metrics files; returns its path. */
async function saveEpoch(state: TrainState, o: TrainOptions, epoch: number, classes: readonly string[], files: FileStore): Promise<string> {
  const path = joinPath(o.expdir, checkpointName(epoch));
  await saveCheckpoint(path, await checkpointGroups(state), { epoch, options: o, classes, history: state.history, steps: state.steps }, files);
  await pruneCheckpoints(o.expdir, epoch, o.saveEvery, files);
  await files.writeFileAtomic(joinPath(o.expdir, 'metrics.json'), JSON.stringify(state.history, null, 2) + '\n');
  await files.writeFileAtomic(joinPath(o.expdir, 'steps.json'), JSON.stringify(state.steps) + '\n');
  await writeCurves(o.expdir, state.history, state.steps, files);
  return path;
}

/** The caller's model, or MultiGrain built from the options (its trunk loaded from --pretrained-backbone). */
async function buildModel(o: TrainOptions, classes: number, inputs: TrainInputs<TrainableModel>, log: (line: string) => void): Promise<TrainableModel> {
  if (inputs.model) {
    if (o.pretrainedBackbone) throw new Error('train: pretrainedBackbone loads a MultiGrain trunk; with your own model, load its weights into it before train()');
    return inputs.model;
  }
  // SENet / NASNet widths come from the pretrained file (the published nets, or reduced ones)
  const trunkOptions = typeof o.backbone !== 'number' && o.pretrainedBackbone ? await pretrainedTrunkOptions(o.pretrainedBackbone, o.backbone) : undefined;
  const model = new MultiGrain({
    backbone: o.backbone, numClasses: classes, poolingExponent: o.poolingExponent, baseWidth: o.baseWidth, trunkOptions, seed: o.seed,
  });
  if (o.pretrainedBackbone) {
    await loadPretrainedTrunk(model, o.pretrainedBackbone);
    log(`loaded the trunk from ${o.pretrainedBackbone}`);
  }
  return model;
}

async function buildState(o: TrainOptions, data: TrainData, inputs: TrainInputs<TrainableModel>, log: (line: string) => void, files: FileStore): Promise<TrainState> {
  const model = await buildModel(o, data.classes.length, inputs, log);
  const beta = keep(parameter([o.betaInit], [1], 'beta'));
  const params = model.namedParameters();
  const paramNames = new Map(params.map(([n, t]) => [t, n] as [Tensor, string]));
  // The original's two parameter groups; the checkpoint keys are `<group>.<parameter>`.
  const opt = new SGD([
    { name: 'backbone', params: params.map(([, t]) => t), lr: o.learningRate, momentum: o.momentum, weightDecay: o.weightDecay },
    { name: 'margin_beta', params: [beta], lr: o.learningRate * o.betaLr, momentum: o.momentum, weightDecay: 0 },
  ]);
  paramNames.set(beta, 'beta');
  const state: TrainState = { model, beta, opt, paramNames, history: [], steps: [], startEpoch: 0, inputs };
  const resumeFile = o.resumeEpoch === 0 ? null : await resolveResume(o.resumeFrom ?? o.expdir, o.resumeEpoch, files);
  if (o.resumeFrom && o.resumeEpoch !== 0 && !resumeFile) throw new Error(`--resume-from ${o.resumeFrom}: no checkpoint found there`);
  if (resumeFile) {
    await restore(state, resumeFile, files);
    log(`resumed from ${resumeFile} (epoch ${state.startEpoch})`);
  }
  return state;
}

async function checkpointGroups(state: TrainState) {
  return {
    model: await state.model.exportStateDict(),
    optimizer: await optimizerState(state.opt, state.paramNames),
    extra: await hostCopy([['beta', state.beta]]),
  };
}

async function restore(state: TrainState, file: string, files: FileStore): Promise<void> {
  const bytes = await files.readFile(file);
  const torch = torchFileFormat(bytes);
  if (torch) {
    // A .pth holds weights but no run (optimizer state, epoch, history): say what reads it instead.
    throw new Error(
      `--resume-from ${file}: a PyTorch file (torch.save, ${torch} format), not a checkpoint of multigrain train; ` +
        '--resume-from continues a run of this engine (checkpoint_N.safetensors). ' +
        `To start training from these weights, use --pretrained-backbone ${file} (a torchvision ResNet or the original MultiGrain release: ` +
        'the trunk is loaded, the classifier starts fresh); evaluate, finetune-p and whiten read the original release\'s .pth directly (--resume-from).',
    );
  }
  const ckpt = decodeCheckpointFile(file, bytes);
  const meta = ckpt.meta as { epoch: number; history: EpochRecord[]; steps?: StepRecord[]; command?: string };
  if (typeof meta?.epoch !== 'number') {
    throw new Error(`${file}: not a training checkpoint${meta?.command ? ` (written by multigrain ${meta.command})` : ''}: resume training from the training run's folder`);
  }
  state.model.loadStateDict(ckpt.groups.model ?? new Map());
  const beta = ckpt.groups.extra?.get('beta');
  if (beta) state.beta.assign(Float32Array.from(beta.data as Float32Array));
  const momentum = ckpt.groups.optimizer ?? new Map();
  for (const group of state.opt.groups) {
    for (const p of group.params) {
      const saved = momentum.get(`${group.name}.${state.paramNames.get(p)}`);
      if (saved) state.opt.setMomentumBuffer(p, tensor(saved.data as Float32Array, p.shape));
    }
  }
  state.history = meta.history ?? [];
  state.steps = meta.steps ?? [];
  state.startEpoch = meta.epoch;
}

function setLr(state: TrainState, lr: number, betaLr: number): void {
  for (const g of state.opt.groups) g.lr = g.name === 'margin_beta' ? lr * betaLr : lr;
}

/** The learning rate of each parameter group, by group name. */
function groupLrs(state: TrainState): Record<string, number> {
  return Object.fromEntries(state.opt.groups.map((g) => [g.name, g.lr]));
}

/** The log line of the run's base learning rate: how it follows from --learning-rate. */
function learningRateLine(o: TrainOptions, baseLr: number): string {
  const images = o.batchSize * o.gradientAccum;
  const how = o.lrScaling === 'linear'
    ? `--learning-rate ${o.learningRate} x ${images} images per step / 512 (--lr-scaling linear)`
    : `--learning-rate as given (--lr-scaling none, as the original)`;
  const accum = o.gradientAccum > 1 ? `; gradients summed over ${o.gradientAccum} batches, a partial accumulation at an epoch's end: ${o.partialAccum}` : '';
  return `base learning rate ${baseLr}: ${how}${accum}`;
}

/** Fewest images a training batch may hold: batchnorm in training mode needs two values per channel. */
export const MIN_TRAIN_BATCH = 2;

async function trainEpoch(state: TrainState, o: TrainOptions, sampler: RASampler, loader: DataLoader, epoch: number, lr: number, log: (line: string) => void) {
  state.model.train();
  // the weights (and beta) are checked with every read: a NaN weight can hide behind a finite loss
  const metrics = new GpuMetrics([...state.model.stateTensors(), ['beta', state.beta]]);
  const totals: Record<string, number> = {};
  let windows = 0;
  const steps = sampler.batchesPerEpoch;
  const bar = new ProgressBar(`epoch ${epoch + 1}/${o.epochs}`, steps, 'step', o.progress ? {} : { write: () => undefined });
  let done = 0;
  const accumulation = new GradientAccumulation(state.opt, o.gradientAccum, o.partialAccum);
  let images = 0;
  const started = Date.now();
  let dataMs = 0;
  let waitStart = Date.now();
  const flushMetrics = async () => {
    const { metrics: m, steps: n, firstBadStep, nonFinite } = await metrics.read();
    if (firstBadStep >= 0 || nonFinite.length > 0) {
      const step = epoch * steps + done - 1;
      const what = [
        firstBadStep >= 0 && `the loss is NaN or infinite at step ${firstBadStep}`,
        nonFinite.length > 0 && `by step ${step} ${nonFinite.length} weight tensor(s) hold NaN or infinite values: ` +
          nonFinite.slice(0, 5).map((w) => `${w.name} (${w.count})`).join(', ') + (nonFinite.length > 5 ? ', ...' : ''),
      ].filter(Boolean).join('; ');
      throw new Error(`training stopped: ${what} (epoch ${epoch + 1}); the last checkpoint in ${o.expdir} is intact. Try a lower --learning-rate.`);
    }
    if (n === 0) return;
    for (const [k, v] of Object.entries(m)) totals[k] = (totals[k] ?? 0) + (k === 'samples' ? v : v * n);
    windows += n;
    const record: StepRecord = { epoch: epoch + done / steps, loss: m.loss, cross_entropy: m.cross_entropy, margin: m.margin, beta: m.beta, top1: m.top1, lr: state.opt.groups[0].lr };
    state.steps.push(record);
    await state.inputs.onStep?.(record);
    const rate = images / ((Date.now() - started) / 1000);
    bar.update(done, `loss ${m.loss.toFixed(3)} ce ${m.cross_entropy.toFixed(3)} margin ${m.margin.toFixed(3)} beta ${m.beta.toFixed(3)} top-1 ${m.top1.toFixed(1)}% | ${rate.toFixed(1)} img/s, data ${(dataMs / Math.max(done, 1)).toFixed(0)} ms/step`, true);
  };
  try {
    for await (const batch of loader.trainEpoch(sampler, epoch)) {
      dataMs += Date.now() - waitStart;
      const globalStep = epoch * steps + batch.index;
      if (epoch < o.warmupEpochs) setLr(state, lr * warmupFactor(globalStep, steps, o.warmupEpochs), o.betaLr);
      if (batch.labels.length < MIN_TRAIN_BATCH) {
        // --skip-unreadable left too few images in this batch for batchnorm: skip it.
        log(`epoch ${epoch + 1}, batch ${batch.index + 1}: skipped, only ${batch.labels.length} readable image(s) left (batchnorm needs ${MIN_TRAIN_BATCH})`);
      } else {
        trainStep(state, o, batch, metrics, globalStep);
        images += batch.labels.length;
        accumulation.addBatch();
      }
      done++;
      if (done % o.logEvery === 0) await flushMetrics();
      if (stopRequested(state.inputs)) break; // the epoch is dropped: trainInFolder sees the stop too
      waitStart = Date.now();
    }
    accumulation.endEpoch();
    await flushMetrics();
  } catch (err) {
    throw withMemoryHint(err as Error, o);
  } finally {
    metrics.dispose();
  }
  bar.finish();
  const n = Math.max(windows, 1);
  const samples = Math.max(totals.samples ?? 0, 1);
  return {
    cross_entropy: (totals.cross_entropy ?? 0) / n,
    margin: (totals.margin ?? 0) / n,
    loss: (totals.loss ?? 0) / n,
    beta: (totals.beta ?? 0) / n,
    top1: (totals.top1 ?? 0) / n,
    top5: (totals.top5 ?? 0) / n,
    samples,
    images_per_s: images / ((Date.now() - started) / 1000),
  };
}

/** Forward, joint loss and backward for one batch; metrics stay on the GPU. */
function trainStep(state: TrainState, o: TrainOptions, batch: HostBatch, metrics: GpuMetrics, globalStep: number): void {
  const lambda = o.classifWeight;
  tidy(() => {
    const x = batchImages(batch);
    const labels = tensor(batch.labels, [batch.labels.length], 'i32');
    const out = trainingOutputs(state.model, x, lambda < 1);
    const ce = crossEntropy(out.logits, labels);
    let margin: Tensor;
    let loss: Tensor;
    if (lambda < 1) {
      const { replicas } = samplingReplicas(o);
      margin = sampledMarginLoss(out.normalizedEmbedding, state.beta, batch.instanceIds, hashSeed(o.seed, globalStep), { replicas }).loss;
      loss = add(mulScalar(ce, lambda), mulScalar(margin, 1 - lambda));
    } else {
      margin = noGrad(() => mulScalar(ce, 0));
      loss = ce;
    }
    backward(loss);
    const hits = topkCorrect(out.logits, labels, [1, 5]);
    metrics.add({ ce, margin, loss, beta: noGrad(() => addScalar(state.beta, 0)), hits, samples: batch.labels.length }, globalStep);
  });
}

/**
 * A host batch's NCHW f32 images: its float pixels uploaded, or its uint8 crops (a quarter of the
 * upload) colour-augmented on the GPU. The uploaded crops and draws are released here, also
 * outside a `tidy` (otherwise each batch would leave two buffers behind).
 */
export function batchImages(batch: HostBatch): Tensor {
  const g = batch.gpu;
  if (!g) return tensor(batch.images, batch.shape as Shape);
  const [n, , h, w] = batch.shape;
  return tidy(() => augmentImages(tensor(g.pixels, [g.pixels.length], 'u32'), tensor(g.params, [n, AUGMENT_PARAMS_PER_IMAGE]), h, w, g.colour));
}

/** A 32-bit seed for the triplet sampling of one step. */
function hashSeed(seed: number, step: number): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  h = Math.imul(h ^ step, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** Top-1/top-5 and mean CE on a validation loader (eval mode, no autograd); `progress`: a progress bar label. */
export async function validate(model: Pick<TrainableModel, 'forward' | 'eval' | 'train'>, loader: DataLoader, batchSize: number, progress?: string): Promise<{ cross_entropy: number; top1: number; top5: number }> {
  model.eval();
  let result: { sums: number[]; images: number } | null;
  try {
    // per batch: [CE sum, top-1 hits, top-5 hits]
    result = await sumOverEvaluation(loader, { batchSize }, (batch) => {
      const labels = tensor(batch.labels, [batch.labels.length], 'i32');
      return classificationSums(model.forward(tensor(batch.images, batch.shape as Shape)).logits, labels);
    }, progress ? { label: progress, total: loader.dataset.length } : undefined);
  } finally {
    model.train();
  }
  if (!result) return { cross_entropy: NaN, top1: NaN, top5: NaN };
  const [ce, top1, top5] = result.sums as [number, number, number];
  const n = result.images;
  return { cross_entropy: ce / n, top1: (100 * top1) / n, top5: (100 * top5) / n };
}

function withMemoryHint(err: Error, o: TrainOptions): Error {
  if (/memory|maxStorageBufferBindingSize|maxBufferSize/i.test(err.message)) {
    return new Error(`${err.message}\n(out of GPU memory at --batch-size ${o.batchSize} and --input-size ${o.inputSize}: lower one of them, or use --gradient-accum)`);
  }
  return err;
}

