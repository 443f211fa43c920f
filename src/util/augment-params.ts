/**
 * The per-image parameter record of the GPU colour augmentation, shared by the data side that
 * fills it (from the sample's draws) and the engine kernel that reads it (data/augment):
 * 8 f32 per image, [order code, brightness, contrast, saturation, lighting offset R, G, B, flip].
 * The order code is op0 + 4 op1 + 16 op2, each op 0 (none), 1 brightness, 2 contrast,
 * 3 saturation, in the order they apply.
 */

/** f32 values per image. */
export const AUGMENT_PARAMS_PER_IMAGE = 8;

/** The jitter operations, in their code order (code = index + 1). */
export const AUGMENT_OPS = ['brightness', 'contrast', 'saturation'] as const;
/** One jitter operation. */
export type AugmentOp = (typeof AUGMENT_OPS)[number];

/** The jitter and lighting of one image. */
export interface AugmentImageParams {
  /** Operations in the order they apply (at most one of each). */
  order: readonly AugmentOp[];
  factors: { brightness?: number; contrast?: number; saturation?: number };
  /** Per-channel offset added after ToTensor (the lighting offset), default zeros. */
  offset?: readonly number[];
  /** Mirror the image left-right first (the drawn horizontal flip), default false. */
  flip?: boolean;
}

/** Writes image `index`'s record into `out` (a [N · AUGMENT_PARAMS_PER_IMAGE] array). */
export function writeAugmentParams(out: Float32Array, index: number, p: AugmentImageParams): void {
  if (p.order.length > 3 || new Set(p.order).size !== p.order.length) throw new Error(`augment params: order [${p.order.join(', ')}] must list each operation at most once`);
  const q = index * AUGMENT_PARAMS_PER_IMAGE;
  let code = 0;
  p.order.forEach((op, k) => {
    const f = p.factors[op];
    if (f === undefined || !Number.isFinite(f) || f < 0) throw new Error(`augment params: ${op} is in the order but its factor is ${f}`);
    code += (AUGMENT_OPS.indexOf(op) + 1) << (2 * k);
  });
  out[q] = code;
  out[q + 1] = p.factors.brightness ?? 1;
  out[q + 2] = p.factors.contrast ?? 1;
  out[q + 3] = p.factors.saturation ?? 1;
  for (let c = 0; c < 3; c++) out[q + 4 + c] = p.offset?.[c] ?? 0;
  out[q + 7] = p.flip ? 1 : 0;
}
