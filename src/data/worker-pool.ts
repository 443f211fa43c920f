/**
 * A small pool of Node worker threads running dist/node/data-worker.js: tasks go to the
 * least-busy worker (at most `perWorker` in flight each, the rest queued). Workers are
 * `unref`'d while idle, so a forgotten pool does not keep the process alive.
 */
import type { Worker as NodeWorker } from 'node:worker_threads';
import type { SampleResult, SampleTask } from './sample-task.js';
import type { TransformSpec } from './transforms/pipelines.js';

interface Slot {
  worker: NodeWorker;
  busy: number;
}

/** The worker script beside the library bundle. */
export function dataWorkerUrl(): URL {
  return new URL('./data-worker.js', import.meta.url);
}

/** Worker threads that run sample tasks. */
export class SampleWorkerPool {
  private readonly slots: Slot[] = [];
  private readonly waiting = new Map<number, { resolve: (r: SampleResult) => void; reject: (e: Error) => void }>();
  private readonly queue: SampleTask[] = [];
  private failure: Error | null = null;
  private closed = false;

  private constructor(private readonly perWorker: number) {}

  /**
   * Starts `size` workers building the pipeline `transform`. `perWorker` tasks wait at each
   * worker: the next task is only sent when the calling thread's event loop turns, which a batch
   * assembly and upload hold for tens of milliseconds, so a short queue there leaves the worker
   * idle.
   */
  static async create(size: number, transform: TransformSpec, perWorker = 8): Promise<SampleWorkerPool> {
    const { Worker } = await import('node:worker_threads');
    const { existsSync } = await import('node:fs');
    const { fileURLToPath } = await import('node:url');
    const url = dataWorkerUrl();
    if (url.protocol === 'file:' && !existsSync(fileURLToPath(url))) {
      throw new Error(`DataLoader: worker script ${fileURLToPath(url)} not found (run \`node tools/build.mjs\`), or use workers: 0`);
    }
    const pool = new SampleWorkerPool(perWorker);
    for (let i = 0; i < size; i++) {
      const worker = new Worker(url, { workerData: { transform } });
      const slot: Slot = { worker, busy: 0 };
      worker.unref();
      worker.on('message', (r: SampleResult) => pool.onResult(slot, r));
      worker.on('error', (e: Error) => pool.fail(new Error(`DataLoader worker failed: ${e.message}`, { cause: e })));
      worker.on('exit', (code) => {
        if (!pool.closed) pool.fail(new Error(`DataLoader worker exited unexpectedly (code ${code})`));
      });
      pool.slots.push(slot);
    }
    return pool;
  }

  get size(): number {
    return this.slots.length;
  }

  /** Runs one task on some worker. */
  run(task: SampleTask): Promise<SampleResult> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new Error('DataLoader: worker pool is closed'));
    return new Promise((resolve, reject) => {
      this.waiting.set(task.id, { resolve, reject });
      this.queue.push(task);
      this.pump();
    });
  }

  private pump(): void {
    while (this.queue.length > 0) {
      let best: Slot | null = null;
      for (const s of this.slots) if (s.busy < this.perWorker && (!best || s.busy < best.busy)) best = s;
      if (!best) return;
      const task = this.queue.shift()!;
      if (best.busy++ === 0) best.worker.ref();
      best.worker.postMessage(task);
    }
  }

  private onResult(slot: Slot, r: SampleResult): void {
    if (--slot.busy === 0) slot.worker.unref();
    const w = this.waiting.get(r.id);
    this.waiting.delete(r.id);
    w?.resolve(r);
    this.pump();
  }

  private fail(e: Error): void {
    if (this.failure) return;
    this.failure = e;
    for (const w of this.waiting.values()) w.reject(e);
    this.waiting.clear();
    this.queue.length = 0;
  }

  /** Terminates the workers. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.waiting.values()) w.reject(new Error('DataLoader: worker pool closed'));
    this.waiting.clear();
    // A worker's 'exit' can arrive after the event loop has run dry (idle workers are unref'd,
    // and a stopping one holds nothing either): terminate() then never settles and whoever
    // awaits close() (the CLI after an error) is dropped, Node exiting with 13 and no message.
    // A timer keeps the loop turning until the workers are gone, 2 s at most.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const limit = new Promise<void>((resolve) => (timer = setTimeout(resolve, 2000)));
    try {
      await Promise.race([Promise.all(this.slots.map((s) => s.worker.terminate())), limit]);
    } finally {
      clearTimeout(timer);
    }
  }
}
