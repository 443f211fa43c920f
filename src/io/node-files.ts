/**
 * File-path conveniences for Node over the in-memory readers and writers. node:fs is imported
 * lazily, so bundling this module for a browser is harmless (calling these there throws).
 */
import { writeFileAtomic } from './atomic-write.js';
import { decodeCheckpoint, encodeCheckpoint, type CheckpointData } from './checkpoint.js';
import type { HostTensor, StateDict } from './host-tensor.js';
import { readSafetensors, writeSafetensors, type SafetensorsContents } from './safetensors.js';
import { loadTorchCheckpoint, type TorchCheckpoint, type TorchLoadOptions } from './torch-load.js';

/** Reads a whole file into a Uint8Array (Node). */
export async function readFileBytes(path: string): Promise<Uint8Array> {
  if (typeof process === 'undefined' || typeof process.versions?.node !== 'string') {
    throw new Error('readFileBytes needs Node.js; in a browser, fetch the file and pass its bytes');
  }
  const fs = await import('node:fs/promises');
  const b = await fs.readFile(path);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** Reads a `.pth`/`.pt` file written by `torch.save` (either format). */
export async function loadTorchCheckpointFile(path: string, options?: TorchLoadOptions): Promise<TorchCheckpoint> {
  const bytes = await readFileBytes(path);
  try {
    return await loadTorchCheckpoint(bytes, options);
  } catch (e) {
    (e as Error).message = `${path}: ${(e as Error).message}`;
    throw e;
  }
}

/** Reads a `.safetensors` file. */
export async function readSafetensorsFile(path: string): Promise<SafetensorsContents> {
  const bytes = await readFileBytes(path);
  try {
    return readSafetensors(bytes);
  } catch (e) {
    (e as Error).message = `${path}: ${(e as Error).message}`;
    throw e;
  }
}

/** Writes a `.safetensors` file atomically. */
export async function writeSafetensorsFile(
  path: string,
  tensors: StateDict | Iterable<readonly [string, HostTensor]>,
  metadata?: Record<string, string>,
): Promise<void> {
  await writeFileAtomic(path, writeSafetensors(tensors, metadata));
}

/** Writes one of our checkpoints atomically (an interrupted save leaves the previous file intact). */
export async function saveCheckpointFile(path: string, data: CheckpointData): Promise<void> {
  await writeFileAtomic(path, encodeCheckpoint(data));
}

/** Reads one of our checkpoints. */
export async function loadCheckpointFile(path: string): Promise<CheckpointData> {
  const bytes = await readFileBytes(path);
  try {
    return decodeCheckpoint(bytes);
  } catch (e) {
    (e as Error).message = `${path}: ${(e as Error).message}`;
    throw e;
  }
}
