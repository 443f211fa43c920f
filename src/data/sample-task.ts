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
import type { ImageTransform, TrainPlan, TransformSpec } from './transforms/pipelines.js';
import { makeCropOnDecodePlan, makeTrainPlan, makeTransform } from './transforms/pipelines.js';
import { resizeImageBilinear } from './transforms/geometry.js';
import type { RgbImage } from './image.js';
import { AUGMENT_PARAMS_PER_IMAGE, writeAugmentParams } from '../util/augment-params.js';

/** A sample to produce (plain data, posted to workers). */
export interface SampleTask {
  id: number;
  record: ImageRecord;
  seed: number;
  epoch: number;
  /** Position of the sample in its epoch's stream (train) or in the evaluation order. */
  position: number;
  /**
   * Stop a training sample before its colour stages: answer the flipped uint8 crop and the
   * drawn jitter and lighting (`params`) for the GPU augmentation. Ignored by validation specs.
   */
  uint8?: boolean;
}

/** The produced sample, or why it could not be read. */
export type SampleResult =
  | {
      id: number; ok: true; width: number; height: number;
      /** CHW float pixels, or, for `uint8` tasks, the HWC uint8 crop. */
      data: Float32Array | Uint8Array;
      /** For `uint8` tasks: the image's AUGMENT_PARAMS_PER_IMAGE values (util/augment-params.ts). */
      params?: Float32Array;
      /** Set for items read through a dataset's `get`. */ label?: number;
    }
  | { id: number; ok: false; decodeError: boolean; /** The reason (decode errors) or the error text. */ message: string; file?: string };

/**
 * What a task runs: the whole-image transform, the crop-while-decoding plan where the spec
 * allows one, and the training plan of `uint8` tasks (null for validation specs).
 */
export interface SamplePipeline {
  transform: ImageTransform;
  cropOnDecode: TrainPlan | null;
  train: TrainPlan | null;
}

/** The pipeline of a spec (built once per worker). */
export function makeSamplePipeline(spec: TransformSpec): SamplePipeline {
  const train = spec.kind === 'train' ? makeTrainPlan(spec.recipe, spec.size, spec.mean, spec.std, spec.cropScale) : null;
  return { transform: makeTransform(spec), cropOnDecode: makeCropOnDecodePlan(spec), train };
}

/** The per-sample generator of the loader. */
export function sampleRng(seed: number, epoch: number, position: number): DataRng {
  return DataRng.derive(seed, epoch, position);
}

/** The plan's crop, cropped and resized while decoding: same generator, same draws (the box first); only the resampling differs. */
function decodeCrop(plan: TrainPlan, path: string, autoOrient: boolean | undefined, decoder: ImageDecoder, rng: DataRng): Promise<RgbImage> {
  return decoder.decodeCropResized!(path, (w, h) => plan.cropBox(w, h, rng), plan.size, plan.size, { autoOrient: autoOrient ?? false, allowTruncated: true });
}

/** The plan's crop of a decoded image, by the PIL-exact CPU resize. */
function cpuCrop(plan: TrainPlan, img: RgbImage, rng: DataRng): RgbImage {
  return resizeImageBilinear(img, plan.size, plan.size, plan.cropBox(img.width, img.height, rng));
}

/** Runs a task. Decode failures become `{ ok: false, decodeError: true }`; other errors too, flagged false. */
export async function runSampleTask(task: SampleTask, pipeline: SamplePipeline, decoder: ImageDecoder): Promise<SampleResult> {
  try {
    const rng = sampleRng(task.seed, task.epoch, task.position);
    const { record } = task;
    const plan = pipeline.cropOnDecode;
    const onDecode = plan && decoder.decodeCropResized && record.path !== undefined && !record.image && !record.rotate ? plan : null;
    if (task.uint8 && pipeline.train) {
      const train = pipeline.train;
      const crop = onDecode ? await decodeCrop(onDecode, record.path!, record.autoOrient, decoder, rng) : cpuCrop(train, await loadRecord(record, decoder), rng);
      const { image, params } = train.finishUint8(crop, rng);
      const prm = new Float32Array(AUGMENT_PARAMS_PER_IMAGE);
      writeAugmentParams(prm, 0, params);
      return { id: task.id, ok: true, data: image.data, params: prm, width: image.width, height: image.height };
    }
    const out = onDecode ? onDecode.finish(await decodeCrop(onDecode, record.path!, record.autoOrient, decoder, rng), rng) : pipeline.transform(await loadRecord(record, decoder), rng);
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
