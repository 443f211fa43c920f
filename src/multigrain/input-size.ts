/**
 * The up-front check of an input size against the GPU: a size whose tensors no kernel could
 * bind is refused before any image is loaded, instead of failing deep in the data pipeline
 * (a 100000-px resize overflows the host's typed arrays) or after a whole batch was prepared.
 */
import { runtime, shapeSize, shapeString, type Shape } from '../engine/index.js';

/**
 * Throws unless a batch of `batchSize` square `inputSize` images ([B, 3, S, S]) and the first
 * convolution's output ([B, baseWidth, S/2, S/2]) each fit this GPU's
 * maxStorageBufferBindingSize (the engine's limit for one tensor). `flags` names the settings
 * in the message (e.g. "--batch-size 96 and --input-size 4000"), `advice` what to change.
 * Needs `init()`.
 */
export function checkInputFits(batchSize: number, inputSize: number, baseWidth: number, flags: string, advice: string): void {
  const max = runtime().gpu.limits.maxStorageBufferBindingSize;
  const half = Math.ceil(inputSize / 2);
  const shapes: Shape[] = [[batchSize, 3, inputSize, inputSize], [batchSize, baseWidth, half, half]];
  for (const shape of shapes) {
    const bytes = shapeSize(shape) * 4;
    if (bytes > max) {
      throw new Error(
        `${flags}: a tensor of shape ${shapeString(shape)} needs ${(bytes / 2 ** 20).toFixed(1)} MiB, above this GPU's ` +
          `maxStorageBufferBindingSize of ${(max / 2 ** 20).toFixed(0)} MiB: ${advice}`,
      );
    }
  }
}
