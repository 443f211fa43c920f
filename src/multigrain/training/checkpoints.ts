/**
 * Experiment checkpoints: `<expdir>/checkpoint_<epoch>.safetensors` in our checkpoint format
 * (src/io/FORMAT.md), written atomically; every `saveEvery`-th and the last are kept.
 * A checkpoint holds the model, the optimizer's momentum buffers, beta, and the metadata
 * needed to resume exactly (epoch, options, metrics history, seeds).
 */
import {
  decodeCheckpoint, encodeCheckpoint, makeHostTensor, checkFiniteTensors, joinPath, nodeFileStore, type CheckpointData, type FileStore, type StateDict,
} from '../../io/index.js';
import type { Tensor, SGD } from '../../engine/index.js';

export const CHECKPOINT_PATTERN = /^checkpoint_(\d+)\.safetensors$/;

export function checkpointName(epoch: number): string {
  return `checkpoint_${epoch}.safetensors`;
}

/** Epochs of the checkpoints found in a folder, ascending. */
export async function listCheckpoints(dir: string, files: FileStore = nodeFileStore): Promise<number[]> {
  let names: string[];
  try {
    names = await files.list(dir);
  } catch {
    return [];
  }
  return names.map((n) => CHECKPOINT_PATTERN.exec(n)).filter((m): m is RegExpExecArray => !!m).map((m) => Number(m[1])).sort((a, b) => a - b);
}

/**
 * The checkpoint file to resume from: `from` may be a file or a folder (then the highest
 * epoch, or `epoch` when >= 1). Returns null when there is nothing to resume.
 */
export async function resolveResume(from: string, epoch: number, files: FileStore = nodeFileStore): Promise<string | null> {
  const stat = await files.stat(from);
  if (!stat) return null;
  if (stat.isFile) return from;
  const epochs = await listCheckpoints(from, files);
  if (epochs.length === 0) return null;
  if (epoch >= 1) {
    if (!epochs.includes(epoch)) throw new Error(`--resume-epoch ${epoch}: no ${checkpointName(epoch)} in ${from} (found epochs ${epochs.join(', ')})`);
    return joinPath(from, checkpointName(epoch));
  }
  return joinPath(from, checkpointName(epochs[epochs.length - 1]));
}

/** Host copies of named GPU tensors. */
export async function hostCopy(named: Iterable<[string, Tensor]>): Promise<StateDict> {
  const out: StateDict = new Map();
  for (const [name, t] of named) out.set(name, makeHostTensor('f32', [...t.shape], (await t.toArray()) as Float32Array));
  return out;
}

/** The optimizer's momentum buffers, keyed by the parameter's name. */
export async function optimizerState(opt: SGD, names: Map<Tensor, string>): Promise<StateDict> {
  const named: [string, Tensor][] = [];
  for (const group of opt.groups) {
    for (const p of group.params) {
      const v = opt.momentumBuffer(p);
      if (v) named.push([`${group.name}.${names.get(p) ?? p.name}`, v]);
    }
  }
  return hostCopy(named);
}

/** Writes a checkpoint atomically (temp file + rename). */
export async function saveCheckpoint(path: string, groups: Record<string, StateDict>, meta: unknown, files: FileStore = nodeFileStore): Promise<void> {
  await files.writeFileAtomic(path, encodeCheckpoint({ groups, meta } satisfies CheckpointData));
}

/** Deletes checkpoints that are neither a multiple of `saveEvery` nor `keepEpoch`. */
export async function pruneCheckpoints(dir: string, keepEpoch: number, saveEvery: number, files: FileStore = nodeFileStore): Promise<void> {
  for (const e of await listCheckpoints(dir, files)) {
    if (e !== keepEpoch && (saveEvery <= 0 || e % saveEvery !== 0)) await files.remove(joinPath(dir, checkpointName(e)));
  }
}

/** Reads one of our checkpoints; a tensor holding NaN or infinite values is refused, named (`<group>/<name>`). */
export async function loadCheckpoint(path: string, files: FileStore = nodeFileStore): Promise<CheckpointData> {
  return decodeCheckpointFile(path, await files.readFile(path));
}

/** Decodes the bytes of checkpoint `path` (errors name the file), refusing non-finite tensors. */
export function decodeCheckpointFile(path: string, bytes: Uint8Array): CheckpointData {
  let data: CheckpointData;
  try {
    data = decodeCheckpoint(bytes);
  } catch (e) {
    (e as Error).message = `${path}: ${(e as Error).message}`;
    throw e;
  }
  checkFiniteTensors(Object.entries(data.groups).flatMap(([g, dict]) => [...dict].map(([k, t]) => [`${g}/${k}`, t] as [string, typeof t])), path);
  return data;
}
