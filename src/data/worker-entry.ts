/**
 * Entry of the loader's worker threads, bundled to dist/node/data-worker.js. It receives
 * its {@link TransformSpec} in `workerData`, then {@link SampleTask} messages, and answers
 * each with a {@link SampleResult} (pixel and parameter buffers transferred, not copied).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { NodeImageDecoder } from './decode-node.js';
import type { SampleTask } from './sample-task.js';
import { makeSamplePipeline, runSampleTask } from './sample-task.js';
import type { TransformSpec } from './transforms/pipelines.js';

const port = parentPort;
if (!port) throw new Error('data-worker.js must run in a worker thread');
const spec = (workerData as { transform: TransformSpec }).transform;
const pipeline = makeSamplePipeline(spec);
// One libvips thread per image: the workers already decode in parallel, one image each. Files
// are read with one blocking call: a small file from the page cache costs less than the pool trips.
const decoder = new NodeImageDecoder({ concurrency: 1, syncRead: true });
port.on('message', (task: SampleTask) => {
  void runSampleTask(task, pipeline, decoder).then((result) => {
    if (!result.ok) {
      port.postMessage(result);
      return;
    }
    // A view into a larger buffer (a decoder's) would send all of it: send its own copy then.
    const whole = (a: Float32Array | Uint8Array) => (a.byteOffset === 0 && a.byteLength === a.buffer.byteLength ? a : a.slice());
    const sent = { ...result, data: whole(result.data), params: result.params };
    const transfer = [sent.data.buffer as ArrayBuffer, ...(sent.params ? [sent.params.buffer as ArrayBuffer] : [])];
    try {
      port.postMessage(sent, transfer);
    } catch {
      port.postMessage(sent); // a buffer that cannot be detached (external memory) is copied
    }
  });
});
