/**
 * The model the page works with: one trained in the page or opened from a checkpoint's bytes
 * (a file the user picked, or the one `multigrain serve --checkpoint` offers), with the class
 * names and input size its metadata records.
 */
import { MultiGrain, openMultiGrain, byteSourceName, classificationScale, type ByteSource, type ValidationMode } from '../index.js';

/** A model with what the page needs to show its answers. */
export interface LoadedModel {
  model: MultiGrain;
  /** Class names in label order (`class 0`, ... where the file records none). */
  classes: readonly string[];
  /** Evaluation size: square = shorter side size·256/224 then a center crop; rect = longest side. */
  inputSize: number;
  /** Evaluation crop, as the run that trained it validated. */
  crop: ValidationMode;
  /** Where it came from (file name, URL or 'trained in this page'). */
  source: string;
}

/**
 * A source as the library's readers should see it in a page: a relative URL made absolute
 * (a bare string would otherwise be read as a local path); anything else unchanged.
 */
export function absoluteSource<T extends ByteSource>(source: T): T | URL {
  return typeof source === 'string' && typeof location !== 'undefined' && !/^[a-z][a-z0-9+.-]*:/i.test(source) ? new URL(source, location.href) : source;
}

/** Opens a checkpoint (ours or a .pth) from bytes, a File/Blob or a URL, with its evaluation scale. */
export async function openCheckpoint(source: ByteSource): Promise<LoadedModel> {
  const src = absoluteSource(source);
  const { model, classes, meta } = await openMultiGrain(src);
  model.eval();
  const n = model.options.numClasses;
  const { inputSize, crop } = classificationScale(meta);
  return { model, classes: classes ?? Array.from({ length: n }, (_, i) => `class ${i}`), inputSize, crop, source: byteSourceName(src) };
}

/** Frees the model's GPU memory. */
export function disposeModel(m: LoadedModel | null): void {
  if (m) for (const t of m.model.stateTensors().values()) t.dispose();
}
