/**
 * The model the page works with: one trained in the page or opened from a checkpoint's bytes
 * (a file the user picked, or the one `multigrain serve --checkpoint` offers), with the class
 * names and input size its metadata records.
 */
import { MultiGrain, openMultiGrain, encodeCheckpoint, byteSourceName, type ByteSource } from '../index.js';

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

/**
 * Opens a checkpoint (ours or a .pth) from bytes, a File/Blob or a URL; a relative URL is taken
 * relative to the page (a bare string would otherwise be read as a local path).
 */
export async function openCheckpoint(source: ByteSource): Promise<LoadedModel> {
  const src = typeof source === 'string' && typeof location !== 'undefined' && !/^[a-z]+:/i.test(source) ? new URL(source, location.href) : source;
  const { model, classes, meta } = await openMultiGrain(src);
  model.eval();
  const n = model.options.numClasses;
  const size = (meta as { options?: { inputSize?: unknown } } | null)?.options?.inputSize;
  return {
    model,
    classes: classes ?? Array.from({ length: n }, (_, i) => `class ${i}`),
    inputSize: typeof size === 'number' && size > 0 ? size : DEFAULT_INPUT_SIZE,
    source: byteSourceName(src),
  };
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
