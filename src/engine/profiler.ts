/**
 * Per-kernel GPU time, from timestamp queries (one timed compute pass per dispatch while
 * enabled). Adapters without `timestamp-query` report dispatch counts only.
 */
import type { GpuContext } from './device.js';
import { gpuWait } from './gpu-wait.js';

const MAX_QUERIES = 2 * 256;

export interface KernelTime {
  kernel: string;
  dispatches: number;
  /** Total GPU milliseconds (NaN without timestamp queries). */
  ms: number;
}

interface PendingRead {
  buffer: GPUBuffer;
  labels: string[];
  resolve: GPUBuffer;
}

export class Profiler {
  enabled = false;
  private querySet: GPUQuerySet | null = null;
  private labels: string[] = [];
  private totals = new Map<string, KernelTime>();
  private pending: Promise<void>[] = [];
  private submitted: PendingRead[] = [];
  private byShape = false;

  constructor(private gpu: GpuContext) {}

  /**
   * Starts collecting (clears earlier figures); `byShape` keeps one entry per kernel and
   * problem shape (`matmul/matmul vec4-8x16 b36 64x512x64`) instead of one per kernel.
   */
  start(options: { byShape?: boolean } = {}): void {
    this.enabled = true;
    this.byShape = options.byShape ?? false;
    this.totals.clear();
  }

  /** The entry a dispatch counts under: the kernel name, with its shape when grouping by shape. */
  label(kernel: string, shape?: () => string): string {
    return this.enabled && this.byShape && shape ? `${kernel} ${shape()}` : kernel;
  }

  timestampWrites(label: string): GPUComputePassTimestampWrites | undefined {
    if (!this.gpu.hasTimestamps) return undefined;
    this.querySet ??= this.gpu.device.createQuerySet({ type: 'timestamp', count: MAX_QUERIES });
    const index = this.labels.length * 2;
    this.labels.push(label);
    return { querySet: this.querySet, beginningOfPassWriteIndex: index, endOfPassWriteIndex: index + 1 };
  }

  /** Counts the dispatch, and ends the batch early when the query set is full. */
  afterDispatch(rt: { flush(): void }, kernel: string): void {
    if (!this.enabled) return;
    const entry = this.totals.get(kernel) ?? { kernel, dispatches: 0, ms: this.gpu.hasTimestamps ? 0 : NaN };
    entry.dispatches++;
    this.totals.set(kernel, entry);
    if (this.labels.length * 2 >= MAX_QUERIES) rt.flush();
  }

  beforeSubmit(encoder: GPUCommandEncoder): void {
    if (!this.querySet || this.labels.length === 0) return;
    const device = this.gpu.device;
    const count = this.labels.length * 2;
    const resolve = device.createBuffer({ size: count * 8, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
    const read = device.createBuffer({ size: count * 8, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    encoder.resolveQuerySet(this.querySet, 0, count, resolve, 0);
    encoder.copyBufferToBuffer(resolve, 0, read, 0, count * 8);
    this.submitted.push({ buffer: read, labels: this.labels, resolve });
    this.labels = [];
  }

  /** Maps the timestamp buffers of the batch just submitted. */
  afterSubmit(): void {
    for (const job of this.submitted) this.pending.push(this.collect(job).finally(() => job.resolve.destroy()));
    this.submitted = [];
  }

  private async collect(job: PendingRead): Promise<void> {
    await gpuWait(job.buffer.mapAsync(GPUMapMode.READ), this.gpu.isNode);
    const times = new BigInt64Array(job.buffer.getMappedRange());
    job.labels.forEach((label, i) => {
      const ns = Number(times[2 * i + 1] - times[2 * i]);
      const entry = this.totals.get(label);
      if (entry && ns > 0) entry.ms += ns / 1e6;
    });
    job.buffer.unmap();
    job.buffer.destroy();
  }

  /** Stops collecting and returns the per-kernel totals, slowest first. */
  async stop(rt: { sync(): Promise<void> }): Promise<KernelTime[]> {
    await rt.sync();
    this.enabled = false;
    await Promise.all(this.pending);
    this.pending = [];
    return [...this.totals.values()].sort((a, b) => b.ms - a.ms);
  }
}
