/**
 * What the Status tab shows: the adapter the engine opened, its features and the limits the
 * kernels choose their variants by; or, where WebGPU is missing, why and what to do.
 */
import type { Runtime } from '../index.js';

/** The plain message shown (and set as `window.multigrainError`) where WebGPU is missing. */
export const NO_WEBGPU_MESSAGE =
  'WebGPU is not available in this browser, so MultiGrain cannot run here. ' +
  'Use Chrome or Edge 113 or newer on Windows, macOS or ChromeOS (or Safari 26, Firefox 141 on Windows); ' +
  'on Linux start Chrome with --enable-unsafe-webgpu --enable-features=Vulkan. ' +
  'The page must come from https:// or from http://localhost / 127.0.0.1 (a secure context), ' +
  'and the GPU must not be blocklisted (see chrome://gpu).';

/** The limits the engine's kernels read (workgroup size, storage buffers, buffer sizes). */
export const LIMITS_USED: readonly string[] = [
  'maxComputeInvocationsPerWorkgroup', 'maxComputeWorkgroupSizeX', 'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupsPerDimension', 'maxComputeWorkgroupStorageSize', 'maxStorageBuffersPerShaderStage',
  'maxStorageBufferBindingSize', 'maxBufferSize', 'maxUniformBufferBindingSize',
];

/** The adapter as the Status tab lists it. */
export interface GpuStatus {
  adapter: { vendor: string; architecture: string; device: string; description: string };
  /** `vendor architecture` (or the description), for printing beside timings. */
  name: string;
  features: string[];
  limits: Record<string, number>;
  cpuAdapter: boolean;
}

/** Why WebGPU can't be used here, or null when `navigator.gpu` gives an adapter. */
export async function webgpuProblem(): Promise<string | null> {
  const gpu = (navigator as { gpu?: GPU }).gpu;
  if (!gpu) return `${NO_WEBGPU_MESSAGE} (navigator.gpu is undefined${isSecureContext ? '' : '; this page is not a secure context'})`;
  const adapter = await gpu.requestAdapter().catch(() => null);
  if (!adapter) return `${NO_WEBGPU_MESSAGE} (navigator.gpu.requestAdapter() gave no adapter)`;
  return null;
}

/** The opened runtime's adapter, features and used limits. */
export function gpuStatus(rt: Runtime): GpuStatus {
  const info = rt.gpu.adapterInfo;
  const limits: Record<string, number> = {};
  for (const key of LIMITS_USED) {
    const value = (rt.gpu.limits as unknown as Record<string, unknown>)[key];
    if (typeof value === 'number') limits[key] = value;
  }
  const features = [...rt.gpu.device.features].map(String).sort();
  const name = [info.vendor, info.architecture].filter(Boolean).join(' ') || info.description || info.device || 'unknown adapter';
  return { adapter: { ...info }, name, features, limits, cpuAdapter: rt.gpu.cpuAdapter };
}
