/**
 * The runtime: one device, one buffer pool, one pipeline cache, and the command stream.
 *
 * Dispatches are recorded into one command encoder (one open compute pass) and submitted in
 * batches; nothing is read back unless the caller asks for a value. Kernel parameters are
 * packed into a per-batch uniform arena that is uploaded once, just before the batch is
 * submitted (queue order makes reusing it for the next batch safe).
 */
import { openDevice, type DeviceOptions, type GpuContext } from './device.js';
import { BufferPool } from './pool.js';
import { PipelineCache, type PipelineRequest } from './pipelines.js';
import { Profiler } from './profiler.js';
import { gpuWait } from './gpu-wait.js';
import { tune, type Tuning } from './tuning.js';

/**
 * Dispatches recorded before a batch is submitted. Small batches let the GPU start while the
 * rest of a step is still being recorded; much smaller ones pay the cost of each submission
 * (docs/performance.md).
 */
const MAX_DISPATCHES_PER_BATCH = 32;
const UNIFORM_ARENA_BYTES = MAX_DISPATCHES_PER_BATCH * 256;

export interface DispatchArgs {
  /** Kernel parameters (binding 0), packed as the kernel's uniform struct. */
  uniforms: Uint8Array;
  /** Storage buffers, bound at 1, 2, ... in order. */
  buffers: GPUBuffer[];
  /** Workgroup counts; see `Runtime.grid` for 1-D sizes above the per-dimension limit. */
  workgroups: readonly [number, number?, number?];
  /**
   * The problem's shape for the profiler (e.g. `b36 64x512x64`), which groups by it beside the
   * kernel name when started with `byShape`; only called while profiling.
   */
  shape?: () => string;
}

export class Runtime {
  readonly pool: BufferPool;
  readonly pipelines: PipelineCache;
  readonly profiler: Profiler;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private dispatches = 0;
  private arena = new Uint8Array(UNIFORM_ARENA_BYTES);
  private arenaUsed = 0;
  private uniformBuffer: GPUBuffer;
  private pendingError: Error | null = null;
  private pendingErrorIsCompile = false;
  private lost = false;
  private wasDestroyed = false;
  private kernelsInBatch = new Set<string>();
  private staging: GPUBuffer[] = [];

  constructor(readonly gpu: GpuContext) {
    const device = gpu.device;
    this.pool = new BufferPool(device);
    this.pipelines = new PipelineCache(device);
    this.profiler = new Profiler(gpu);
    this.uniformBuffer = device.createBuffer({
      size: UNIFORM_ARENA_BYTES,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
      label: 'uniform-arena',
    });
    device.onuncapturederror = (event: GPUUncapturedErrorEvent) => {
      const kernels = [...this.kernelsInBatch].join(', ');
      this.fail(new Error(`GPU error in a batch running [${kernels}]: ${event.error.message}`));
    };
    void device.lost.then((info) => {
      this.lost = true;
      if (info.reason !== 'destroyed') this.fail(new Error(`GPU device lost: ${info.message}`));
    });
  }

  get device(): GPUDevice {
    return this.gpu.device;
  }

  /** Keeps the first error, except that a shader compile error (the cause) wins over its consequences. */
  private fail(error: Error, isCompileError = false): void {
    if (!this.pendingError || (isCompileError && !this.pendingErrorIsCompile)) {
      this.pendingError = error;
      this.pendingErrorIsCompile = isCompileError;
    }
  }

  /** Throws an error the device reported since the last check. */
  throwIfFailed(): void {
    if (this.pendingError) {
      const error = this.pendingError;
      this.pendingError = null;
      this.discardBatch();
      throw error;
    }
    if (this.lost) throw new Error('the GPU device is destroyed or lost; call init() again');
  }

  /** Records one kernel dispatch (called by `Kernel.dispatch`, which packs uniforms and buffers by name). */
  dispatch(kernel: PipelineRequest, args: DispatchArgs): void {
    this.throwIfFailed();
    const pipeline = this.pipelines.getSync(kernel, (message) => this.fail(new Error(message), true));
    const align = this.gpu.limits.minUniformBufferOffsetAlignment;
    const params = args.uniforms;
    if (this.arenaUsed + params.byteLength > UNIFORM_ARENA_BYTES || this.dispatches >= MAX_DISPATCHES_PER_BATCH) {
      this.flush();
    }
    const offset = this.arenaUsed;
    this.arena.set(params, offset);
    this.arenaUsed = Math.ceil((offset + params.byteLength) / align) * align;
    const entries: GPUBindGroupEntry[] = [
      { binding: 0, resource: { buffer: this.uniformBuffer, offset, size: Math.max(params.byteLength, 16) } },
    ];
    const maxBinding = this.gpu.limits.maxStorageBufferBindingSize;
    args.buffers.forEach((buffer, i) => {
      if (buffer.size > maxBinding) {
        throw new Error(`${kernel.name}: buffer ${i + 1} of ${buffer.size} bytes is above this GPU's maxStorageBufferBindingSize (${maxBinding})`);
      }
      entries.push({ binding: i + 1, resource: { buffer } });
    });
    // Labelled so that a validation error names the kernel.
    const bindGroup = this.device.createBindGroup({ label: kernel.name, layout: pipeline.getBindGroupLayout(0), entries });
    const label = this.profiler.label(kernel.name, args.shape);
    const pass = this.computePass(label);
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    const [x, y = 1, z = 1] = args.workgroups;
    pass.dispatchWorkgroups(x, y, z);
    this.profiler.afterDispatch(this, label);
    this.dispatches++;
    this.kernelsInBatch.add(kernel.name);
  }

  /** The open compute pass (profiling gives each dispatch its own timed pass). */
  private computePass(label: string): GPUComputePassEncoder {
    if (this.profiler.enabled) {
      this.endPass();
      this.pass = this.commandEncoder().beginComputePass({ label, timestampWrites: this.profiler.timestampWrites(label) });
      return this.pass;
    }
    this.pass ??= this.commandEncoder().beginComputePass();
    return this.pass;
  }

  /** The open command encoder, outside any pass (for copies and clears). */
  commandEncoder(): GPUCommandEncoder {
    this.encoder ??= this.device.createCommandEncoder();
    return this.encoder;
  }

  endPass(): void {
    this.pass?.end();
    this.pass = null;
  }

  /** Fills a buffer range with zeros, in stream order. */
  clear(buffer: GPUBuffer, bytes?: number): void {
    this.endPass();
    this.commandEncoder().clearBuffer(buffer, 0, bytes === undefined ? undefined : Math.ceil(bytes / 4) * 4);
  }

  /** Copies between buffers, in stream order. */
  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number): void {
    this.endPass();
    this.commandEncoder().copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
  }

  /**
   * Drops the work recorded since the last submit: after a device error it may hold invalid
   * commands, which would fail the next, healthy batch if submitted with it.
   */
  private discardBatch(): void {
    this.endPass();
    this.encoder = null;
    this.arenaUsed = 0;
    this.dispatches = 0;
    this.kernelsInBatch.clear();
  }

  /** Submits everything recorded so far. */
  flush(): void {
    if (this.encoder) {
      this.endPass();
      if (this.arenaUsed > 0) this.device.queue.writeBuffer(this.uniformBuffer, 0, this.arena, 0, this.arenaUsed);
      this.profiler.beforeSubmit(this.encoder);
      this.device.queue.submit([this.encoder.finish()]);
      this.profiler.afterSubmit();
      this.encoder = null;
    }
    this.arenaUsed = 0;
    this.dispatches = 0;
    this.kernelsInBatch.clear();
    this.pool.onSubmit();
  }

  /** Uploads host data into a fresh pooled buffer. */
  upload(data: ArrayBufferView<ArrayBuffer>): GPUBuffer {
    const buffer = this.pool.acquire(Math.max(data.byteLength, 4), true);
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    // writeBuffer needs a multiple of 4 bytes.
    const padded = bytes.byteLength % 4 === 0 ? bytes : padTo4(bytes);
    this.write(buffer, padded);
    return buffer;
  }

  /**
   * `queue.writeBuffer` of `bytes` (a multiple of 4) from offset 0, in pieces of at most 1 MiB:
   * Dawn stages a write through its 4 MiB ring buffer, and allocates (and faults in) a staging
   * buffer of its own for every larger one, such as each batch of images.
   */
  write(buffer: GPUBuffer, bytes: Uint8Array<ArrayBuffer>): void {
    const piece = 1 << 20;
    for (let at = 0; at < bytes.byteLength; at += piece) {
      this.device.queue.writeBuffer(buffer, at, bytes.buffer, bytes.byteOffset + at, Math.min(piece, bytes.byteLength - at));
    }
  }

  /** Reads `bytes` from a buffer: submits pending work and waits for it. */
  async read(buffer: GPUBuffer, bytes: number, offset = 0): Promise<ArrayBuffer> {
    this.throwIfFailed();
    const size = Math.ceil(bytes / 4) * 4;
    const staging = this.takeStaging(size);
    this.copy(buffer, offset, staging, 0, size);
    this.flush();
    try {
      await gpuWait(staging.mapAsync(GPUMapMode.READ, 0, size), this.gpu.isNode);
    } catch (err) {
      await gpuWait(this.pipelines.settled(), this.gpu.isNode);
      this.throwIfFailed();
      throw err;
    }
    await gpuWait(this.pipelines.settled(), this.gpu.isNode);
    const out = staging.getMappedRange(0, size).slice(0, bytes);
    staging.unmap();
    this.staging.push(staging);
    this.throwIfFailed();
    return out;
  }

  /** Waits until the GPU has finished all submitted work (and surfaces its errors). */
  async sync(): Promise<void> {
    this.flush();
    await gpuWait(this.device.queue.onSubmittedWorkDone(), this.gpu.isNode);
    await gpuWait(this.pipelines.settled(), this.gpu.isNode);
    this.throwIfFailed();
  }

  private takeStaging(size: number): GPUBuffer {
    const i = this.staging.findIndex((b) => b.size >= size && b.size <= 4 * size);
    if (i >= 0) return this.staging.splice(i, 1)[0];
    return this.device.createBuffer({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, label: 'readback' });
  }

  /**
   * Workgroup counts for `groups` 1-D workgroups, folded into 2-D when above the
   * per-dimension limit (shaders recover the linear index with `num_workgroups`).
   */
  grid(groups: number): [number, number] {
    const max = this.gpu.limits.maxComputeWorkgroupsPerDimension;
    if (groups <= max) return [Math.max(groups, 1), 1];
    const y = Math.ceil(groups / max);
    return [Math.ceil(groups / y), y];
  }

  /** True once `destroy()` ran (`shutdown()`): its buffers are gone, releasing them is a no-op. */
  get destroyed(): boolean {
    return this.wasDestroyed;
  }

  destroy(): void {
    this.wasDestroyed = true;
    this.lost = true;
    this.device.destroy();
  }
}

function padTo4(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(Math.ceil(bytes.byteLength / 4) * 4);
  out.set(bytes);
  return out;
}

export interface InitOptions extends DeviceOptions {
  /** Tuning knobs (see tuning.ts); the defaults choose by adapter. */
  tuning?: Partial<Tuning>;
}

let current: Runtime | null = null;
let opening: Promise<Runtime> | null = null;

/**
 * Opens the GPU (once) and returns the runtime. Call it before creating tensors.
 * In Node it uses Dawn over Vulkan; in a page, `navigator.gpu`.
 */
export async function init(options: InitOptions = {}): Promise<Runtime> {
  if (options.tuning) tune(options.tuning);
  if (current) return current;
  opening ??= openDevice(options).then((gpu) => (current = new Runtime(gpu)));
  try {
    return await opening;
  } finally {
    opening = null;
  }
}

/** The runtime opened by `init()`. */
export function runtime(): Runtime {
  if (!current) throw new Error('the engine is not initialized: await init() before creating tensors');
  return current;
}

/** Whether `init()` has completed. */
export function isInitialized(): boolean {
  return current !== null;
}

/** Destroys the device so that Node can exit (Dawn otherwise keeps a core busy). */
export async function shutdown(): Promise<void> {
  if (!current) return;
  const rt = current;
  current = null;
  try {
    await rt.sync();
  } finally {
    rt.destroy();
  }
}
