/**
 * Kernel `data/augment`: a batch of uint8 RGB crops (packed in u32) to the normalised f32
 * NCHW batch, with each image's colour jitter and lighting (see shaders/data/augment.wgsl).
 * Raw: `augmentBatch` (ops/augment.ts) checks the shapes and builds the output.
 */
import source from '../../../../shaders/data/augment.wgsl';
import { defineKernel } from '../../kernel.js';
import type { Tensor } from '../../tensor.js';

const WORKGROUP = 256;

export const augmentKernel = defineKernel({
  name: 'data/augment',
  source,
  uniforms: {
    plane: 'u32', width: 'u32', clampUnit: 'u32', scale: 'f32',
    mean0: 'f32', mean1: 'f32', mean2: 'f32', invStd0: 'f32', invStd1: 'f32', invStd2: 'f32',
  },
  bindings: [
    { name: 'src', type: 'u32', access: 'read' },
    { name: 'prm', type: 'f32', access: 'read' },
    { name: 'out', type: '${V}', access: 'read_write' },
  ],
  workgroupSize: WORKGROUP,
});

/** The batch-wide constants of {@link dispatchAugment}. */
export interface AugmentConstants {
  /** Pixels per image (H · W). */
  plane: number;
  /** Image width (W). */
  width: number;
  /** Multiplier after the lighting offset. */
  scale: number;
  /** Clamp to [0, 1] before normalising. */
  clamp: boolean;
  mean: readonly number[];
  std: readonly number[];
}

/** Writes `out` [N, 3, H, W] from `src` (N·H·W·3 bytes in u32) and `prm` (N·8 f32), one workgroup per image. */
export function dispatchAugment(src: Tensor, prm: Tensor, out: Tensor, images: number, c: AugmentConstants): void {
  // 4 pixels per invocation where rows hold whole quads (so images start on a u32 word and a
  // flipped row's quads mirror onto quads): 3 word loads and vec4 stores instead of 12 byte
  // extractions and 12 scalar stores.
  const quad = c.width % 4 === 0;
  augmentKernel.dispatch({
    defines: { QUAD: quad, V: quad ? 'vec4f' : 'f32', U: quad ? 'vec4u' : 'u32', W: quad ? '4u' : '1u' },
    uniforms: {
      plane: c.plane, width: c.width, clampUnit: c.clamp ? 1 : 0, scale: c.scale,
      mean0: c.mean[0]!, mean1: c.mean[1]!, mean2: c.mean[2]!,
      invStd0: 1 / c.std[0]!, invStd1: 1 / c.std[1]!, invStd2: 1 / c.std[2]!,
    },
    bindings: { src, prm, out },
    workgroups: [images],
  });
}
