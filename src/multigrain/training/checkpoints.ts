/**
 * Experiment checkpoints: `<expdir>/checkpoint_<epoch>.safetensors` in our checkpoint format
 * (src/io/FORMAT.md), written atomically; every `saveEvery`-th and the last are kept.
 * A checkpoint holds the model, the optimizer's momentum buffers, beta, and the metadata
 * needed to resume exactly (epoch, options, metrics history, seeds).
 */
import { saveCheckpointFile, loadCheckpointFile, makeHostTensor, type CheckpointData, type StateDict } from '../../io/index.js';
import type { Tensor, SGD } from '../../engine/index.js';

export const CHECKPOINT_PATTERN = /^checkpoint_(\d+)\.safetensors$/;

export function checkpointName(epoch: number): string {
  return `checkpoint_${epoch}.safetensors`;
}

/** Epochs of the checkpoints found in a folder, ascending. */
export async function listCheckpoints(dir: string): Promise<number[]> {
  const fs = await import('node:fs/promises');
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return [];
  }
  return names.map((n) => CHECKPOINT_PATTERN.exec(n)).filter((m): m is RegExpExecArray => !!m).map((m) => Number(m[1])).sort((a, b) => a - b);
}

/**
 * The checkpoint file to resume from: `from` may be a file or a folder (then the highest
 * epoch, or `epoch` when >= 1). Returns null when there is nothing to resume.
 */
export async function resolveResume(from: string, epoch: number): Promise<string | null> {
  const fs = await import('node:fs/promises');
  const { join } = await import('node:path');
  const stat = await fs.stat(from).catch(() => null);
  if (!stat) return null;
  if (stat.isFile()) return from;
  const epochs = await listCheckpoints(from);
  if (epochs.length === 0) return null;
  if (epoch >= 1) {
    if (!epochs.includes(epoch)) throw new Error(`--resume-epoch ${epoch}: no ${checkpointName(epoch)} in ${from} (found epochs ${epochs.join(', ')})`);
    return join(from, checkpointName(epoch));
  }
  return join(from, checkpointName(epochs[epochs.length - 1]));
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
export async function saveCheckpoint(path: string, groups: Record<string, StateDict>, meta: unknown): Promise<void> {
  await saveCheckpointFile(path, { groups, meta } satisfies CheckpointData);
}

/** Deletes checkpoints that are neither a multiple of `saveEvery` nor `keepEpoch`. */
export async function pruneCheckpoints(dir: string, keepEpoch: number, saveEvery: number): Promise<void> {
  const fs = await import('node:fs/promises');
  const { join } = await import('node:path');
  for (const e of await listCheckpoints(dir)) {
    if (e !== keepEpoch && (saveEvery <= 0 || e % saveEvery !== 0)) await fs.rm(join(dir, checkpointName(e)), { force: true });
  }
}

export { loadCheckpointFile };
