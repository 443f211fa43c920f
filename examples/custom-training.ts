// Your own dataset and your own small model, trained by the library's trainer: its joint loss
// (cross-entropy + the margin loss with distance-weighted sampling), SGD, schedule and
// checkpoints, with callbacks. Files go to memory, as in a web page.
// Run: node tools/build.mjs && node build/examples/custom-training.js
import {
  init, shutdown, train, Module, Conv2d, Linear, GeMPool, DataRng, MemoryFileStore, relu,
  type Tensor, type Dataset, type RgbImage, type StepRecord,
} from 'multigrain-webgpu';

await init();

// 1. A dataset is any object with `length` and `get(i)` giving { image, label }. Here: 32x32
//    pictures of dark-on-light stripes in three orientations, random shades, width and phase.
const classes = ['horizontal', 'vertical', 'diagonal'];
function stripes(seed: number, label: number): RgbImage {
  const rng = new DataRng(seed);
  const fg = [0, 1, 2].map(() => Math.floor(rng.random() * 80));
  const bg = [0, 1, 2].map(() => 170 + Math.floor(rng.random() * 86));
  const period = 4 + Math.floor(rng.random() * 4);
  const phase = Math.floor(rng.random() * period);
  const data = new Uint8Array(32 * 32 * 3);
  for (let y = 0; y < 32; y++) {
    for (let x = 0; x < 32; x++) {
      const t = label === 0 ? y : label === 1 ? x : x + y;
      const colour = (t + phase) % period < period / 2 ? fg : bg;
      data.set(colour, (y * 32 + x) * 3);
    }
  }
  return { width: 32, height: 32, data };
}
const dataset = (n: number, offset: number): Dataset => ({ length: n, get: (i) => ({ image: stripes(offset + i, i % 3), label: i % 3 }) });

// 2. A model is any Module whose forward gives logits and an embedding: two convolutions,
//    GeM pooling into a 32-d embedding, a linear classifier.
class SmallNet extends Module {
  readonly conv1 = this.addModule('conv1', new Conv2d(3, 16, 3, { stride: 2, padding: 1, bias: true }, new DataRng(1)));
  readonly conv2 = this.addModule('conv2', new Conv2d(16, 32, 3, { stride: 2, padding: 1, bias: true }, new DataRng(2)));
  readonly pool = this.addModule('pool', new GeMPool(3, false));
  readonly classifier = this.addModule('classifier', new Linear(32, classes.length, true, new DataRng(3)));
  forward(x: Tensor): { embedding: Tensor; logits: Tensor } {
    const embedding = this.pool.forward(relu(this.conv2.forward(relu(this.conv1.forward(x)))));
    return { embedding, logits: this.classifier.forward(embedding) };
  }
}

// 3. Train: the options of `multigrain train`, plus data, model and callbacks.
const steps: StepRecord[] = [];
const files = new MemoryFileStore();
const result = await train({
  expdir: 'stripes', epochs: 6, batchSize: 12, repeatedAugmentations: 2, classifWeight: 0.5,
  learningRate: 4, lrDropsEpochs: [4], lrDropsFactors: [0.1], // lr at batch 512, scaled: 4 x 12 / 512
  inputSize: 32, logEvery: 1, saveEvery: 0, validateFirst: false, progress: false,
  data: { train: dataset(48, 0), val: dataset(24, 1000), classes },
  transforms: { train: { kind: 'train', recipe: 'torch', size: 32, cropScale: [0.6, 1] } },
  model: new SmallNet(),
  onStep: (record) => { steps.push(record); },
  onEpoch: (record) => console.log(`epoch ${record.epoch}: val top-1 ${record.val?.top1.toFixed(1)}%`),
  onCheckpoint: ({ path }) => console.log(`saved ${path}`),
}, () => undefined, files);

const losses = steps.map((s) => Number(s.loss.toFixed(4)));
console.log(JSON.stringify({ losses, valTop1: result.history.map((h) => h.val?.top1), checkpoint: result.checkpoint }));
await shutdown();
