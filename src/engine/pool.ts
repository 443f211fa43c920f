/**
 * GPU buffer pool with size classes.
 *
 * Sizes are rounded up to classes spaced by 2^(1/4) (at most 19% waste), so buffers of
 * similar sizes are shared; exact-size keys (tfjs) make the pool grow without bound when
 * shapes vary. Free buffers above a high-water mark are destroyed, oldest first: the mark is
 * `maxFreeBytes` or the largest working set seen (bytes in use at once), whichever is larger,
 * so a training loop keeps what its next step will need and creates nothing after step one.
 *
 * WebGPU orders all work on one queue, with one exception that matters here:
 * `queue.writeBuffer` runs before any command buffer that is still being recorded. A buffer
 * released while the current (unsubmitted) batch still reads it is therefore "dirty": it may
 * be handed out as a kernel output (kernels run in recording order) but not as an upload
 * target, until the batch is submitted.
 */

/** Usage of every tensor buffer: read/written by kernels, copied in and out. */
export const TENSOR_USAGE = 0x80 /* STORAGE */ | 0x4 /* COPY_SRC */ | 0x8 /* COPY_DST */;

export interface PoolStats {
  /** Bytes in buffers currently handed out. */
  bytesInUse: number;
  /** Bytes in all live buffers (in use + free). */
  bytesAllocated: number;
  /** Largest `bytesAllocated` seen. */
  peakBytesAllocated: number;
  /** Buffers created since the pool started (a steady training loop keeps this constant). */
  buffersCreated: number;
  buffersDestroyed: number;
}

const MIN_BYTES = 256;

/** Rounds a byte size up to its size class. */
export function sizeClass(bytes: number): number {
  if (bytes <= MIN_BYTES) return MIN_BYTES;
  const exp = Math.floor(Math.log2(bytes));
  const base = 2 ** exp;
  for (const step of [1, 1.1892, 1.4142, 1.6818, 2]) {
    const size = Math.ceil((base * step) / 256) * 256;
    if (size >= bytes) return size;
  }
  return 2 * base;
}

export class BufferPool {
  private free = new Map<number, GPUBuffer[]>();
  private dirty: Array<[number, GPUBuffer]> = [];
  private freeOrder: GPUBuffer[] = [];
  private sizes = new WeakMap<GPUBuffer, number>();
  private peakInUse = 0;
  private stats: PoolStats = { bytesInUse: 0, bytesAllocated: 0, peakBytesAllocated: 0, buffersCreated: 0, buffersDestroyed: 0 };

  /**
   * @param device the device buffers are created on
   * @param maxFreeBytes free bytes kept for reuse; beyond this, the oldest free buffers are destroyed
   */
  constructor(private device: GPUDevice, public maxFreeBytes = 1 << 30) {}

  /**
   * A buffer of at least `bytes`. `forUpload` excludes buffers still read by unsubmitted work.
   */
  acquire(bytes: number, forUpload: boolean): GPUBuffer {
    // A kernel binds the whole buffer: its class must not round a bindable size past the limit.
    const maxBinding = this.device.limits.maxStorageBufferBindingSize;
    const size = bytes <= maxBinding ? Math.min(sizeClass(bytes), maxBinding - (maxBinding % 4)) : sizeClass(bytes);
    let buffer = this.free.get(size)?.pop();
    if (buffer) {
      this.freeOrder.splice(this.freeOrder.indexOf(buffer), 1);
    } else if (!forUpload) {
      const i = this.dirty.findIndex(([s]) => s === size);
      if (i >= 0) buffer = this.dirty.splice(i, 1)[0][1];
    }
    if (!buffer) {
      buffer = this.device.createBuffer({ size, usage: TENSOR_USAGE });
      this.sizes.set(buffer, size);
      this.stats.buffersCreated++;
      this.stats.bytesAllocated += size;
      this.stats.peakBytesAllocated = Math.max(this.stats.peakBytesAllocated, this.stats.bytesAllocated);
    }
    this.stats.bytesInUse += size;
    this.peakInUse = Math.max(this.peakInUse, this.stats.bytesInUse);
    return buffer;
  }

  /** Returns a buffer; it stays dirty until `onSubmit`. */
  release(buffer: GPUBuffer): void {
    const size = this.sizes.get(buffer)!;
    this.stats.bytesInUse -= size;
    this.dirty.push([size, buffer]);
  }

  /** The current batch was submitted: dirty buffers become free for any use. */
  onSubmit(): void {
    for (const [size, buffer] of this.dirty) {
      let list = this.free.get(size);
      if (!list) this.free.set(size, (list = []));
      list.push(buffer);
      this.freeOrder.push(buffer);
    }
    this.dirty = [];
    this.trim();
  }

  private trim(): void {
    let freeBytes = this.stats.bytesAllocated - this.stats.bytesInUse;
    const limit = Math.max(this.maxFreeBytes, this.peakInUse);
    while (freeBytes > limit && this.freeOrder.length > 0) {
      const buffer = this.freeOrder.shift()!;
      const size = this.sizes.get(buffer)!;
      const list = this.free.get(size)!;
      list.splice(list.indexOf(buffer), 1);
      buffer.destroy();
      freeBytes -= size;
      this.stats.bytesAllocated -= size;
      this.stats.buffersDestroyed++;
    }
  }

  /**
   * Destroys every free buffer and restarts the working-set and peak marks (e.g. between
   * benchmark cases). Buffers released since the last submission are not free yet (recorded work
   * may still read them): `await runtime().sync()` first, or they count toward the next peak.
   */
  releaseFree(): void {
    const keep = this.maxFreeBytes;
    this.maxFreeBytes = 0;
    this.peakInUse = 0;
    this.trim();
    this.maxFreeBytes = keep;
    this.peakInUse = this.stats.bytesInUse;
    this.stats.peakBytesAllocated = this.stats.bytesAllocated;
  }

  getStats(): PoolStats {
    return { ...this.stats };
  }
}
