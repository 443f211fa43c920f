/**
 * Waiting for Dawn in Node without spinning a core.
 *
 * Dawn's Node binding resolves its promises (onSubmittedWorkDone, mapAsync, popErrorScope)
 * from an event pump that re-queues itself with setImmediate for as long as one is pending:
 * the main thread runs at 100 % for the whole wait. On a CPU adapter (lavapipe) that core is
 * the GPU's (docs/performance.md has the measurement). `gpuWait` lets the pump run
 * once per event-loop turn and sleeps between turns, a quarter of the time waited so far (at
 * most 1 ms): a wait overshoots by at most a quarter of its length (short readbacks keep their
 * latency) and a long one gives the core back.
 *
 * In a page (`navigator.gpu`) the browser resolves these promises itself: use them directly.
 */

/** Longest sleep between event-loop turns (ms). */
const MAX_SLEEP_MS = 1;

const sleepCell = typeof SharedArrayBuffer === 'function' ? new Int32Array(new SharedArrayBuffer(4)) : null;

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Resolves as `promise` does; in Node, sleeps between Dawn's event-pump turns instead of spinning. */
export async function gpuWait<T>(promise: Promise<T>, isNode: boolean): Promise<T> {
  if (!isNode || !sleepCell || typeof setImmediate !== 'function') return promise;
  let settled = false;
  promise.then(() => (settled = true), () => (settled = true));
  const started = performance.now();
  while (!settled) {
    await nextTurn(); // Dawn's pump runs in this turn and may settle the promise
    if (!settled) Atomics.wait(sleepCell, 0, 0, Math.min(MAX_SLEEP_MS, (performance.now() - started) / 4));
  }
  return promise;
}
