/**
 * Loading released weights into a MultiGrain model: torchvision ResNet state dicts
 * (`conv1.weight`, ..., `fc.*`) for the trunk, and the original MultiGrain checkpoints
 * (`model_state` with `features.*`, `pool.p`, `classifier.*`, and the whitened form with
 * `whitening.pca.*` and a (d + 1)-column classifier). Every name and shape is checked
 * before anything is written to the model (`matchStateDict`): a missing, unexpected or
 * wrongly shaped key is named in the error with both shapes, and the model is left as it was.
 */
import {
  loadTorchCheckpoint, extractStateDict, matchStateDict, resnetKeyRemap, TORCHVISION_RESNET_LAYOUT, torchFileFormat, decodeCheckpoint,
  MULTIGRAIN_RESNET_LAYOUT, hostTensorToFloat32, checkFiniteTensors, describeResNetStateDict, StateDictMismatchError,
  readByteSource, byteSourceName, type ByteSource, type StateDict, type MatchStateDictOptions,
} from '../io/index.js';
import { resnetDepthOf, type ResNetDepth } from '../nn/index.js';
import { MultiGrain } from './model.js';

const NUM_BATCHES = /(^|\.)num_batches_tracked$/;
const TRUNK = MULTIGRAIN_RESNET_LAYOUT.trunk;

/** A weights file read: its model state dict, and our checkpoint's metadata (null for a .pth). */
export interface WeightsFile {
  dict: StateDict;
  meta: unknown;
  /** How the source is named in messages. */
  name: string;
}

/**
 * Reads a weights file from a path, URL, Blob/File or bytes: a PyTorch .pth (told by its first
 * bytes, or a .pth/.pt name) or one of our checkpoints. A tensor holding NaN or infinite
 * values is refused; errors name the source.
 */
export async function readWeightsFile(source: ByteSource): Promise<WeightsFile> {
  const name = byteSourceName(source);
  const bytes = await readByteSource(source);
  const named = (e: unknown): Error => {
    (e as Error).message = `${name}: ${(e as Error).message}`;
    return e as Error;
  };
  let dict: StateDict;
  let meta: unknown = null;
  if (torchFileFormat(bytes) || /\.(pth|pt)(\.tar)?$/i.test(name)) {
    const { value } = await loadTorchCheckpoint(bytes).catch((e: unknown) => { throw named(e); });
    dict = extractStateDict(value, { prefer: ['model_state', 'state_dict', 'model'], stripModulePrefix: true });
  } else {
    let ckpt;
    try {
      ckpt = decodeCheckpoint(bytes);
    } catch (e) {
      throw named(e);
    }
    if (!ckpt.groups.model) throw new Error(`${name}: checkpoint has no 'model' tensors`);
    dict = ckpt.groups.model;
    meta = ckpt.meta ?? null;
  }
  checkFiniteTensors(dict, name);
  return { dict, meta, name };
}

/**
 * Reads a state dict from a PyTorch .pth file or one of our checkpoints (a path, URL,
 * Blob/File or bytes); a tensor holding NaN or infinite values is refused, named with the source.
 */
export async function readStateDict(source: ByteSource): Promise<StateDict> {
  return (await readWeightsFile(source)).dict;
}

/** True where the keys follow the MultiGrain layout (`features.*`), false for torchvision's (`conv1.*`, `fc.*`). */
function isMultiGrainLayout(dict: StateDict): boolean {
  return [...dict.keys()].some((k) => k.startsWith(TRUNK));
}

/** `ResNet-50, base width 64, 1000 classes`: what a model is, for mismatch messages. */
function describeModel(model: MultiGrain): string {
  const o = model.options;
  return `ResNet-${o.backbone}, base width ${o.baseWidth}, ${o.numClasses} classes${model.whitening ? ', whitened' : ''}`;
}

/** What a state dict holds, in the terms of `describeModel` where its keys allow. */
function describeFile(dict: StateDict): string {
  try {
    const a = inferArchitecture(dict);
    return `ResNet-${a.backbone}, base width ${a.baseWidth}, ${a.numClasses} classes${a.whitened ? ', whitened' : ''}`;
  } catch {
    const info = describeResNetStateDict(dict);
    if (info.layout === 'unknown') return 'no ResNet layout';
    const conv1 = dict.get(`${info.layout === 'multigrain' ? TRUNK : ''}conv1.weight`);
    return `${info.arch ? `ResNet-${info.arch.slice('resnet'.length)}` : `${info.bottleneck ? 'bottleneck' : 'basic'} blocks ${info.blocks.join(', ')}`}`
      + `${conv1 ? `, base width ${conv1.shape[0]}` : ''}${info.numClasses !== undefined ? `, ${info.numClasses} classes` : ''}`;
  }
}

/**
 * matchStateDict with the file named in the error and, for a wrong architecture, one line
 * saying what the model is and what the file holds before the (shortened) list of keys.
 */
function match(path: string, model: MultiGrain, dict: StateDict, expected: ReadonlyMap<string, readonly number[]>, options: MatchStateDictOptions): StateDict {
  try {
    return matchStateDict(dict, expected, options).tensors;
  } catch (err) {
    if (err instanceof StateDictMismatchError) {
      const [want, have] = [describeModel(model), describeFile(dict)];
      err.message = `${path}: ${want === have ? '' : `the model is ${want}, the file holds ${have}; `}${err.message}`;
    } else if (err instanceof Error) err.message = `${path}: ${err.message}`;
    throw err;
  }
}

/**
 * Loads the trunk (`features.*`) from torchvision ResNet weights or from a MultiGrain checkpoint;
 * the torchvision `fc` head (or the checkpoint's `classifier`, `pool.p`, `whitening.*`) is ignored,
 * so the classes of the file need not match the model's.
 */
export async function loadPretrainedTrunk(model: MultiGrain, source: ByteSource): Promise<void> {
  const { dict, name: path } = await readWeightsFile(source);
  const expected = new Map([...model.stateShapes()].filter(([k]) => k.startsWith(TRUNK)));
  const tensors = isMultiGrainLayout(dict)
    ? match(path, model, dict, expected, { ignoreUnexpected: [NUM_BATCHES, /^classifier\./, /^pool\./, /^whitening\./] })
    : match(path, model, dict, expected, {
      remap: resnetKeyRemap(TORCHVISION_RESNET_LAYOUT, MULTIGRAIN_RESNET_LAYOUT),
      ignoreUnexpected: [NUM_BATCHES, /^fc\./],
    });
  model.features.loadStateDict(new Map([...tensors].map(([k, t]) => [k.slice(TRUNK.length), t])));
}

/**
 * Loads a whole MultiGrain model (the original release's `model_state`, or one of our
 * checkpoints). A checkpoint holding `whitening.pca.pca_m` / `pca_P` turns on the model's
 * whitening stage (bias channel + PCA, classifier over d + 1 inputs) before loading, as the
 * original's `load_state_dict` does. A plain torchvision ResNet state dict is accepted too
 * (`fc.*` -> `classifier.*`; the model keeps its own GeM exponent). `dict`: the file's state
 * dict when the caller has read it already.
 */
export async function loadMultiGrainWeights(model: MultiGrain, source: ByteSource, dict?: StateDict): Promise<void> {
  const path = byteSourceName(source);
  dict ??= await readStateDict(source);
  const whitened = [...dict.keys()].some((k) => /(^|\.)pca_(P|m)$/.test(k));
  const expected = model.stateShapes();
  if (whitened && !model.whitening) {
    // the shapes the model will have once whitened (checked before the model is changed)
    const d = model.features.featureDim + 1;
    expected.set('classifier.weight', [model.options.numClasses, d]);
    expected.set('whitening.pca.pca_m', [d]);
    expected.set('whitening.pca.pca_P', [d, d]);
  }
  const tensors = isMultiGrainLayout(dict)
    ? match(path, model, dict, expected, {})
    : match(path, model, dict, expected, {
      remap: resnetKeyRemap(TORCHVISION_RESNET_LAYOUT, MULTIGRAIN_RESNET_LAYOUT),
      allowMissing: [NUM_BATCHES, 'pool.p'],
    });
  if (whitened) model.enableWhitening();
  model.loadStateDict(tensors, { strict: false });
}

/** What a checkpoint says about the network that wrote it. */
export interface MultiGrainArchitecture {
  backbone: ResNetDepth;
  baseWidth: number;
  numClasses: number;
  /** GeM exponent stored in the file (`pool.p`), if any. */
  poolingExponent?: number;
  whitened: boolean;
}

/**
 * Reads trunk depth and width, classes, p and whitening from a state dict's keys and shapes
 * (MultiGrain layout `features.*` / `classifier.*`, or torchvision's `conv1.*` / `fc.*`), so a
 * checkpoint can be opened without knowing how it was trained.
 */
export function inferArchitecture(dict: StateDict, path = 'state dict'): MultiGrainArchitecture {
  const multigrain = isMultiGrainLayout(dict);
  const trunk = multigrain ? TRUNK : '';
  const conv1 = dict.get(`${trunk}conv1.weight`);
  const head = dict.get(multigrain ? 'classifier.weight' : 'fc.weight');
  if (!conv1 || !head) throw new Error(`${path}: not a ResNet / MultiGrain state dict (no ${trunk}conv1.weight or ${multigrain ? 'classifier' : 'fc'}.weight)`);
  const blocks = [1, 2, 3, 4].map((layer) => {
    let n = 0;
    while (dict.has(`${trunk}layer${layer}.${n}.conv1.weight`)) n++;
    return n;
  });
  const block = dict.has(`${trunk}layer1.0.conv3.weight`) ? 'bottleneck' : 'basic';
  const backbone = resnetDepthOf(block, blocks);
  if (!backbone) throw new Error(`${path}: ${block} blocks per stage ${blocks.join(', ')} match no ResNet-18/34/50/101/152 layout`);
  const p = dict.get('pool.p');
  return {
    backbone,
    baseWidth: conv1.shape[0]!,
    numClasses: head.shape[0]!,
    ...(p ? { poolingExponent: hostTensorToFloat32(p)[0]! } : {}),
    whitened: [...dict.keys()].some((k) => /(^|\.)pca_(P|m)$/.test(k)),
  };
}

/** A model opened by {@link openMultiGrain}. */
export interface OpenedMultiGrain {
  model: MultiGrain;
  architecture: MultiGrainArchitecture;
  /** The class names the checkpoint records (ours; absent for a .pth). */
  classes?: readonly string[];
  /** Our checkpoint's metadata (epoch, options, history), or null for a .pth. */
  meta: unknown;
}

/**
 * Opens any MultiGrain checkpoint (ours, the original release's .pth, or a torchvision ResNet
 * state dict) as a model of the architecture the file describes, its weights loaded. The
 * source is a path, a URL (fetched; `file:` read from disk), a Blob/File or the bytes.
 */
export async function openMultiGrain(source: ByteSource): Promise<OpenedMultiGrain> {
  const { dict, meta, name } = await readWeightsFile(source);
  const architecture = inferArchitecture(dict, name);
  const { backbone, baseWidth, numClasses, poolingExponent } = architecture;
  const model = new MultiGrain({ backbone, baseWidth, numClasses, ...(poolingExponent !== undefined ? { poolingExponent } : {}) });
  await loadMultiGrainWeights(model, name, dict);
  const classes = metaClasses(meta, numClasses);
  return { model, architecture, meta, ...(classes ? { classes } : {}) };
}

/** `meta.classes` when it is a list of `numClasses` names, else undefined. */
function metaClasses(meta: unknown, numClasses: number): readonly string[] | undefined {
  const classes = (meta as { classes?: unknown } | null)?.classes;
  if (!Array.isArray(classes) || classes.length !== numClasses || !classes.every((c) => typeof c === 'string')) return undefined;
  return classes as string[];
}

/**
 * The class names one of our checkpoints records in its metadata (`meta.classes`, in label
 * order; train writes them so that evaluation folders are matched to the model by name), or
 * undefined: a .pth file, an older checkpoint, or a list that does not fit `numClasses`.
 */
export async function readCheckpointClasses(source: ByteSource, numClasses: number): Promise<readonly string[] | undefined> {
  if (typeof source === 'string' && !source.endsWith('.safetensors')) return undefined;
  return metaClasses((await readWeightsFile(source)).meta, numClasses);
}
