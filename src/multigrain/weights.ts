/**
 * Loading released weights into a MultiGrain model: torchvision ResNet state dicts
 * (`conv1.weight`, ..., `fc.*`) for the trunk, and the original MultiGrain checkpoints
 * (`model_state` with `features.*`, `pool.p`, `classifier.*`, and the whitened form with
 * `whitening.pca.*` and a 2049-column classifier). A key or shape that does not match is
 * named in the error with both shapes.
 */
import {
  loadTorchCheckpointFile, extractStateDict, remapStateDictKeys, resnetKeyRemap, TORCHVISION_RESNET_LAYOUT,
  MULTIGRAIN_RESNET_LAYOUT, loadCheckpointFile, type StateDict,
} from '../io/index.js';
import type { MultiGrain } from './model.js';

/** Reads a state dict from a PyTorch .pth file or one of our checkpoints. */
export async function readStateDict(path: string): Promise<StateDict> {
  if (path.endsWith('.safetensors')) {
    const ckpt = await loadCheckpointFile(path);
    const model = ckpt.groups.model;
    if (!model) throw new Error(`${path}: checkpoint has no 'model' tensors`);
    return model;
  }
  const { value } = await loadTorchCheckpointFile(path);
  return extractStateDict(value, { prefer: ['model_state', 'state_dict', 'model'], stripModulePrefix: true });
}

/** Loads the trunk from torchvision ResNet weights (the `fc` head is ignored). */
export async function loadPretrainedTrunk(model: MultiGrain, path: string): Promise<void> {
  const dict = await readStateDict(path);
  const isMultiGrain = [...dict.keys()].some((k) => k.startsWith('features.'));
  const trunk: StateDict = new Map();
  const remapped = isMultiGrain ? dict : remapStateDictKeys(dict, resnetKeyRemap(TORCHVISION_RESNET_LAYOUT, MULTIGRAIN_RESNET_LAYOUT));
  for (const [k, v] of remapped) if (k.startsWith('features.')) trunk.set(k.slice('features.'.length), v);
  model.features.loadStateDict(trunk, { strict: true, ignore: (k) => k.endsWith('num_batches_tracked') || k.startsWith('fc.') });
}

/** Loads a whole MultiGrain model (original release or ours); whitened checkpoints enable whitening. */
export async function loadMultiGrainWeights(model: MultiGrain, path: string): Promise<void> {
  const dict = await readStateDict(path);
  if (dict.has('whitening.pca.pca_P')) model.enableWhitening();
  model.loadStateDict(dict);
}
