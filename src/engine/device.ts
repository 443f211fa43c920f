/**
 * GPU device acquisition: Dawn (npm `webgpu`) in Node, `navigator.gpu` in a page.
 *
 * The device is requested with the adapter's maximum buffer, binding and workgroup limits
 * (WebGPU's defaults, 128 MiB per binding and 16 KiB of workgroup memory, are too small for
 * ResNet-50 activations and tiled kernels).
 */

/** What the engine knows about the GPU it runs on. */
export interface GpuContext {
  device: GPUDevice;
  adapterInfo: { vendor: string; architecture: string; device: string; description: string };
  limits: GPUSupportedLimits;
  hasTimestamps: boolean;
  isNode: boolean;
  /** A CPU implementation (lavapipe, SwiftShader): kernels pick their CPU schedules there. */
  cpuAdapter: boolean;
  /**
   * Subgroup size when the device has the `subgroups` feature with one fixed size (lavapipe: 8),
   * else 0: kernels that exchange values between the lanes of a subgroup need to know it.
   */
  subgroupSize: number;
  /**
   * The device has `shader-f16` (half-precision arithmetic and storage in WGSL): f16 inference
   * can run (see precision.ts).
   */
  hasF16: boolean;
  /**
   * CPU threads of the host (Node's `os.availableParallelism()`, a page's
   * `navigator.hardwareConcurrency`): a CPU adapter (lavapipe, SwiftShader) runs one
   * workgroup per thread, so kernels size their grids by it there.
   */
  hostCores: number;
}

export interface DeviceOptions {
  /** Prefer a low-power or high-performance adapter where there are several. */
  powerPreference?: GPUPowerPreference;
}

// The object returned by `webgpu`'s create() must stay reachable while any device lives:
// if it is garbage-collected, Dawn dereferences a freed instance in its event loop and the
// process segfaults. Holding it in module scope ties its lifetime to the process.
let dawnInstance: GPU | null = null;

const isNode =
  typeof process !== 'undefined' && !!process.versions?.node &&
  !(globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu;

async function nodeGpu(): Promise<GPU> {
  if (dawnInstance) return dawnInstance;
  // Dawn's Vulkan loader wants a runtime dir; without one it logs errors on every start.
  if (!process.env.XDG_RUNTIME_DIR) {
    const os = await import('node:os');
    process.env.XDG_RUNTIME_DIR = os.tmpdir();
  }
  let mod: { create: (flags: string[]) => GPU; globals: Record<string, unknown> };
  try {
    mod = await import('webgpu') as unknown as typeof mod;
  } catch (err) {
    throw new Error(`cannot load the 'webgpu' package (Dawn for Node): ${(err as Error).message}. Run 'npm install'.`);
  }
  // GPUBufferUsage, GPUMapMode, ... are globals in a page; Dawn exports them separately.
  for (const [name, value] of Object.entries(mod.globals)) {
    if (!(name in globalThis)) (globalThis as Record<string, unknown>)[name] = value;
  }
  dawnInstance = mod.create([]);
  return dawnInstance;
}

async function browserGpu(): Promise<GPU> {
  const gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (!gpu) throw new Error('WebGPU is not available in this browser (navigator.gpu is undefined)');
  return gpu;
}

/** Limits we ask for: the adapter's maximum of each one the engine relies on. */
const WANTED_LIMITS = [
  'maxBufferSize',
  'maxStorageBufferBindingSize',
  'maxStorageBuffersPerShaderStage',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupsPerDimension',
  'maxUniformBufferBindingSize',
] as const;

/** Opens a GPU device with the adapter's maximum limits. */
export async function openDevice(options: DeviceOptions = {}): Promise<GpuContext> {
  const gpu = isNode ? await nodeGpu() : await browserGpu();
  const adapter = await gpu.requestAdapter({ powerPreference: options.powerPreference ?? 'high-performance' });
  if (!adapter) {
    throw new Error(
      'no WebGPU adapter found. In Node this needs a Vulkan driver (on Debian: run `bash tools/setup.sh`, ' +
        'which installs lavapipe from bookworm-backports); in a browser, WebGPU must be enabled.',
    );
  }
  const requiredLimits: Record<string, number> = {};
  for (const name of WANTED_LIMITS) requiredLimits[name] = adapter.limits[name];
  const hasTimestamps = adapter.features.has('timestamp-query');
  const info = adapter.info ?? ({} as GPUAdapterInfo);
  const cpuAdapter = /software|llvmpipe|lavapipe|swiftshader|cpu/i.test(`${info.architecture} ${info.description} ${info.device} ${info.vendor}`);
  const sizes = info as GPUAdapterInfo & { subgroupMinSize?: number; subgroupMaxSize?: number };
  const subgroupSize = adapter.features.has('subgroups') && sizes.subgroupMinSize && sizes.subgroupMinSize === sizes.subgroupMaxSize ? sizes.subgroupMinSize : 0;
  const requiredFeatures: GPUFeatureName[] = [];
  if (hasTimestamps) requiredFeatures.push('timestamp-query');
  if (subgroupSize) requiredFeatures.push('subgroups' as GPUFeatureName);
  const hasF16 = adapter.features.has('shader-f16');
  if (hasF16) requiredFeatures.push('shader-f16');
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures });
  return {
    device,
    adapterInfo: {
      vendor: info.vendor ?? '',
      architecture: info.architecture ?? '',
      device: info.device ?? '',
      description: info.description ?? '',
    },
    limits: device.limits,
    hasTimestamps,
    cpuAdapter,
    subgroupSize,
    hasF16,
    isNode,
    hostCores: await hostCores(),
  };
}

async function hostCores(): Promise<number> {
  if (isNode) {
    const os = await import('node:os');
    return os.availableParallelism?.() ?? os.cpus().length;
  }
  return (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 4;
}
