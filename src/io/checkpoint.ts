/**
 * MultiGrain-WebGPU checkpoint format (version 1): ONE safetensors file, nothing beside it.
 *
 * - Tensors are grouped by namespace: the tensor key is `<group>/<name>`, the group has no '/'.
 *   Groups used by the trainer: `model` (parameters and buffers under their model names, e.g.
 *   `model/features.conv1.weight`), `optimizer` (e.g. momentum buffers), `extra` (e.g. `extra/beta`).
 * - `__metadata__` holds three strings: `format` = "multigrain-webgpu/checkpoint",
 *   `version` = "1", and `meta` = a JSON document (epoch, arguments, metrics, RNG state, ...).
 *   JSON has no NaN/Infinity: such numbers become null.
 *
 * Any safetensors reader (Python's `safetensors`, for instance) opens these files. Files are
 * written atomically (see `saveCheckpointFile`). Details: src/io/FORMAT.md.
 */
import type { HostTensor, StateDict } from './host-tensor.js';
import { readSafetensors, writeSafetensors } from './safetensors.js';

/** Value of `__metadata__.format` in our checkpoints. */
export const MULTIGRAIN_CHECKPOINT_FORMAT = 'multigrain-webgpu/checkpoint';
/** Current checkpoint format version. */
export const MULTIGRAIN_CHECKPOINT_VERSION = 1;

/** Contents of a checkpoint: tensor groups and a JSON metadata document. */
export interface CheckpointData {
  /** Tensor groups, e.g. `{ model: StateDict, optimizer: StateDict, extra: StateDict }`. */
  groups: Record<string, StateDict>;
  /** JSON-serializable metadata (epoch, arguments, metrics, RNG state, ...). */
  meta: unknown;
}

/** Serializes a checkpoint to safetensors bytes (see the module comment for the layout). */
export function encodeCheckpoint(data: CheckpointData): Uint8Array {
  const entries: Array<[string, HostTensor]> = [];
  for (const [group, dict] of Object.entries(data.groups)) {
    if (!group || group.includes('/')) throw new Error(`checkpoint group name '${group}' must be non-empty and contain no '/'`);
    for (const [name, t] of dict) entries.push([`${group}/${name}`, t]);
  }
  const meta = JSON.stringify(data.meta ?? null);
  return writeSafetensors(entries, {
    format: MULTIGRAIN_CHECKPOINT_FORMAT,
    version: String(MULTIGRAIN_CHECKPOINT_VERSION),
    meta,
  });
}

/** Parses checkpoint bytes written by `encodeCheckpoint`; throws for other safetensors files or newer versions. */
export function decodeCheckpoint(bytes: Uint8Array): CheckpointData {
  const { tensors, metadata } = readSafetensors(bytes);
  if (metadata.format !== MULTIGRAIN_CHECKPOINT_FORMAT) {
    throw new Error(`not a MultiGrain-WebGPU checkpoint (safetensors __metadata__.format is ${JSON.stringify(metadata.format)})`);
  }
  const version = Number(metadata.version);
  if (!(version >= 1 && version <= MULTIGRAIN_CHECKPOINT_VERSION)) {
    throw new Error(`checkpoint format version ${metadata.version} is not supported (this build reads up to ${MULTIGRAIN_CHECKPOINT_VERSION})`);
  }
  const groups: Record<string, StateDict> = {};
  for (const [key, t] of tensors) {
    const slash = key.indexOf('/');
    if (slash <= 0) throw new Error(`checkpoint tensor '${key}' has no '<group>/' prefix`);
    const g = key.slice(0, slash);
    (groups[g] ??= new Map()).set(key.slice(slash + 1), t);
  }
  let meta: unknown;
  try { meta = JSON.parse(metadata.meta ?? 'null'); } catch (e) {
    throw new Error(`checkpoint metadata is not valid JSON: ${(e as Error).message}`);
  }
  return { groups, meta };
}
