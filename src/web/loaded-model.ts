/**
 * The model the page works with: one trained in the page or opened from a checkpoint's bytes
 * (a file the user picked, or the one `multigrain serve --checkpoint` offers), with the class
 * names and input size its metadata records.
 */
import {
  MultiGrain, decodeCheckpoint, inferArchitecture, loadMultiGrainWeights, loadTorchCheckpoint, extractStateDict,
  checkFiniteTensors, encodeCheckpoint, type StateDict,
} from '../index.js';

/** A model with what the page needs to show its answers. */
export interface LoadedModel {
  model: MultiGrain;
  /** Class names in label order (`class 0`, ... where the file records none). */
  classes: readonly string[];
  /** Side of the square the images are resized and cropped to. */
  inputSize: number;
  /** Where it came from (file name, URL or 'trained in this page'). */
  source: string;
}

/** Input size used where a checkpoint records none (the ImageNet models' 224). */
export const DEFAULT_INPUT_SIZE = 224;

interface CheckpointMeta {
  classes?: unknown;
  options?: { inputSize?: unknown };
}

/** The state dict and metadata of a safetensors checkpoint or a PyTorch .pth file, from its bytes. */
async function readCheckpointBytes(bytes: Uint8Array, name: string): Promise<{ dict: StateDict; meta: CheckpointMeta }> {
  let dict: StateDict;
  let meta: CheckpointMeta = {};
  if (name.endsWith('.pth') || name.endsWith('.pt') || name.endsWith('.tar')) {
    const { value } = await loadTorchCheckpoint(bytes);
    dict = extractStateDict(value, { prefer: ['model_state', 'state_dict', 'model'], stripModulePrefix: true });
  } else {
    const ckpt = decodeCheckpoint(bytes);
    const model = ckpt.groups.model;
    if (!model) throw new Error(`${name}: checkpoint has no 'model' tensors`);
    dict = model;
    meta = (ckpt.meta ?? {}) as CheckpointMeta;
  }
  checkFiniteTensors(dict, name);
  return { dict, meta };
}

/** Opens a checkpoint from its bytes as a model of the architecture it describes. */
export async function openCheckpointBytes(bytes: Uint8Array, name: string): Promise<LoadedModel> {
  const { dict, meta } = await readCheckpointBytes(bytes, name);
  const a = inferArchitecture(dict, name);
  const model = new MultiGrain({ backbone: a.backbone, baseWidth: a.baseWidth, numClasses: a.numClasses, ...(a.poolingExponent !== undefined ? { poolingExponent: a.poolingExponent } : {}) });
  await loadMultiGrainWeights(model, name, dict);
  model.eval();
  const named = Array.isArray(meta.classes) && meta.classes.length === a.numClasses && meta.classes.every((c) => typeof c === 'string');
  const classes = named ? (meta.classes as string[]) : Array.from({ length: a.numClasses }, (_, i) => `class ${i}`);
  const size = meta.options?.inputSize;
  return { model, classes, inputSize: typeof size === 'number' && size > 0 ? size : DEFAULT_INPUT_SIZE, source: name };
}

/** Opens a checkpoint by URL (fetch). */
export async function openCheckpointUrl(url: string): Promise<LoadedModel> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status} ${res.statusText}`);
  const name = decodeURIComponent(new URL(url, location.href).pathname.split('/').pop() ?? url);
  return openCheckpointBytes(new Uint8Array(await res.arrayBuffer()), name);
}

/** The model as one of our safetensors checkpoints, class names and input size in its metadata. */
export async function checkpointBytes(m: LoadedModel): Promise<Uint8Array> {
  const o = m.model.options;
  const meta = {
    command: 'web', classes: m.classes,
    options: { backbone: o.backbone, baseWidth: o.baseWidth, poolingExponent: o.poolingExponent, inputSize: m.inputSize },
  };
  return encodeCheckpoint({ groups: { model: await m.model.exportStateDict() }, meta });
}

/** Frees the model's GPU memory. */
export function disposeModel(m: LoadedModel | null): void {
  if (m) for (const t of m.model.stateTensors().values()) t.dispose();
}
