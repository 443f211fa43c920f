/**
 * One unit of loader work, identical in a worker thread and in the calling thread: load a
 * record (decode + fix-up rotation), run the transform with the sample's own generator
 * DataRng.derive(seed, epoch, position), and return the CHW float pixels.
 */
import type { ImageDecoder } from './decode.js';
import { ImageDecodeError } from './decode.js';
import type { ImageRecord } from './datasets/common.js';
import { loadRecord } from './datasets/common.js';
import { DataRng } from '../util/rng.js';
import type { ImageTransform } from './transforms/pipelines.js';

/** A sample to produce (plain data, posted to workers). */
export interface SampleTask {
  id: number;
  record: ImageRecord;
  seed: number;
  epoch: number;
  /** Position of the sample in its epoch's stream (train) or in the evaluation order. */
  position: number;
}

/** The produced sample, or why it could not be read. */
export type SampleResult =
  | { id: number; ok: true; data: Float32Array; width: number; height: number; /** Set for items read through a dataset's `get`. */ label?: number }
  | { id: number; ok: false; decodeError: boolean; /** The reason (decode errors) or the error text. */ message: string; file?: string };

/** The per-sample generator of the loader. */
export function sampleRng(seed: number, epoch: number, position: number): DataRng {
  return DataRng.derive(seed, epoch, position);
}

/** Runs a task. Decode failures become `{ ok: false, decodeError: true }`; other errors too, flagged false. */
export async function runSampleTask(task: SampleTask, transform: ImageTransform, decoder: ImageDecoder): Promise<SampleResult> {
  try {
    const img = await loadRecord(task.record, decoder);
    const out = transform(img, sampleRng(task.seed, task.epoch, task.position));
    return { id: task.id, ok: true, data: out.data, width: out.width, height: out.height };
  } catch (e) {
    return sampleFailure(task.id, e, task.record.path);
  }
}

/** Why sample `id` could not be produced: a decode error (naming its file), or another error with its stack. */
export function sampleFailure(id: number, e: unknown, path: string | undefined): SampleResult {
  const err = e as Error;
  const result: SampleResult = { id, ok: false, decodeError: e instanceof ImageDecodeError, message: err.message };
  if (e instanceof ImageDecodeError) {
    result.file = e.file;
    result.message = e.reason;
  }
  else if (path !== undefined) result.file = path;
  if (!(e instanceof ImageDecodeError) && err.stack) result.message = err.stack;
  return result;
}
