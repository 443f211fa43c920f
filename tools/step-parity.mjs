// Training-step parity, our side: writes a fresh MultiGrain ResNet-18's weights, one augmented
// Fashion-MNIST training batch and the cross-entropy gradients of every parameter on that batch
// to a folder; tools/step_parity.py then recomputes the gradients in PyTorch (float64) from the
// same weights and batch and prints the difference per tensor.
//
//   node tools/build.mjs && node tools/step-parity.mjs [--width 16] [--size 64] [--batch 96] [--out /tmp/step-parity]
//   /usr/bin/python3 tools/step_parity.py [--out /tmp/step-parity]
//
// Files: weights.json (name, shape, offset per tensor) + weights.f32, images.f32 [B, 3, S, S],
// labels.i32 [B], grads.json (name → gradient values).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as mg from '../dist/node/index.js';

const { values: flags } = parseArgs({
  options: {
    width: { type: 'string', default: '16' }, size: { type: 'string', default: '64' },
    batch: { type: 'string', default: '96' }, out: { type: 'string', default: '/tmp/step-parity' },
  },
});
const width = Number(flags.width);
const size = Number(flags.size);
const batchSize = Number(flags.batch);
mkdirSync(flags.out, { recursive: true });

await mg.init();
const model = new mg.MultiGrain({ backbone: 18, numClasses: 10, poolingExponent: 3, baseWidth: width, seed: 0 });
model.train();

const header = [];
const values = [];
let offset = 0;
for (const [name, t] of [...model.namedParameters(), ...model.namedBuffers()]) {
  const v = Float32Array.from(await t.toArray());
  header.push({ name, shape: t.shape, offset });
  values.push(v);
  offset += v.length;
}
const weights = new Float32Array(offset);
header.forEach((h, i) => weights.set(values[i], h.offset));
writeFileSync(join(flags.out, 'weights.json'), JSON.stringify(header));
writeFileSync(join(flags.out, 'weights.f32'), weights);

const dataset = await mg.FashionMnistDataset.open({ split: 'train' });
const sampler = new mg.RASampler(dataset.length, { batchSize, repetitions: 1, seed: 0 });
const loader = new mg.DataLoader({ dataset, transform: { kind: 'train', recipe: 'torch', size, cropScale: [0.8, 1] }, seed: 0, workers: 0 });
const first = (await loader.trainEpoch(sampler, 0).next()).value;
await loader.close();
writeFileSync(join(flags.out, 'images.f32'), first.images);
writeFileSync(join(flags.out, 'labels.i32'), first.labels);

const x = mg.tensor(first.images, first.shape);
const labels = mg.tensor(first.labels, [first.labels.length], 'i32');
mg.backward(mg.crossEntropy(model.forward(x).logits, labels));
const grads = {};
for (const [name, t] of model.namedParameters()) grads[name] = Array.from(await t.grad.toArray());
writeFileSync(join(flags.out, 'grads.json'), JSON.stringify(grads));
console.log(`wrote ${flags.out}: ${header.length} tensors, batch ${first.shape.join('x')}`);
mg.shutdown();
