/**
 * The precision of inference: 'f32', or 'f16' storage for weights and activations with f32
 * accumulation, on devices with `shader-f16`. A setting ('auto', 'f16', 'f32') resolves to the
 * precision a run actually uses, with the reason, so that a run can say which and why.
 */
import { runtime } from './runtime.js';
import { tuning } from './tuning.js';

/** The storage precision of an inference run. */
export type Precision = 'f32' | 'f16';

/** What a user asks for: 'auto' is f16 where the device has `shader-f16`, else f32. */
export type PrecisionSetting = Precision | 'auto';

export const PRECISION_SETTINGS: readonly PrecisionSetting[] = ['auto', 'f16', 'f32'];

/** A resolved precision and why it was chosen. */
export interface PrecisionChoice {
  precision: Precision;
  /** One line for the run's log: which precision and why. */
  reason: string;
}

/** Whether f16 can run here: the device has `shader-f16` and `tuning().halfPrecision` allows it. */
export function halfPrecisionAvailable(): { available: boolean; why: string } {
  if (!runtime().gpu.hasF16) return { available: false, why: "the device has no 'shader-f16' feature" };
  if (!tuning().halfPrecision) return { available: false, why: 'half precision is turned off (tuning halfPrecision: false)' };
  return { available: true, why: "the device has 'shader-f16'" };
}

/** The precision `setting` gives on this device (needs `init()`); a bad setting is refused naming it. */
export function resolvePrecision(setting: PrecisionSetting = 'auto'): PrecisionChoice {
  if (!PRECISION_SETTINGS.includes(setting)) {
    throw new Error(`precision must be one of ${PRECISION_SETTINGS.join(', ')}, got ${JSON.stringify(setting)}`);
  }
  if (setting === 'f32') return { precision: 'f32', reason: 'precision f32 (asked for)' };
  const { available, why } = halfPrecisionAvailable();
  if (available) {
    return { precision: 'f16', reason: `precision f16 (f16 weights and activations, f32 accumulation: ${setting === 'auto' ? 'auto and ' : ''}${why})` };
  }
  return { precision: 'f32', reason: `precision f32 (${setting === 'f16' ? 'f16 was asked for but ' : 'auto: '}${why})` };
}
