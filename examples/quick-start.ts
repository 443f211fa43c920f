// A small MultiGrain network trained for a few steps with the joint loss on a synthetic batch,
// then used as an embedding for retrieval. Run: node tools/build.mjs && node build/examples/quick-start.js
import {
  init, shutdown, tensor, parameter, tidy, noGrad, backward, add, mulScalar,
  crossEntropy, sampledMarginLoss, SGD, MultiGrain,
} from 'multigrain-webgpu';

await init();                                    // Dawn in Node, navigator.gpu in a page
const model = new MultiGrain({ backbone: 18, baseWidth: 8, numClasses: 4, poolingExponent: 3 });
const beta = parameter([1.2], [1], 'beta');      // the margin loss's learned boundary
const opt = new SGD([{ params: [...model.parameters(), beta], lr: 0.05, momentum: 0.9 }]);

// 4 images, each twice with its own noise (repeated augmentation): [8, 3, 32, 32].
let seed = 1;
const noise = () => (seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5;
const ids = [0, 0, 1, 1, 2, 2, 3, 3];            // the instance (and class) of each image
const pixels = Float32Array.from({ length: 8 * 3072 }, (_, i) =>
  Math.sin((i % 3072) * 0.01 * (ids[Math.floor(i / 3072)] + 1)) + 0.2 * noise());
const x = tensor(pixels, [8, 3, 32, 32]);
const labels = tensor(ids, [8], 'i32');

const losses: number[] = [];
for (let step = 0; step < 8; step++) {
  const loss = tidy(() => {                      // intermediates are released at the end
    const { logits, normalizedEmbedding } = model.forward(x);
    const margin = sampledMarginLoss(normalizedEmbedding, beta, ids, step).loss;
    const joint = add(mulScalar(crossEntropy(logits, labels), 0.5), mulScalar(margin, 0.5));
    backward(joint);                             // gradients accumulate into .grad
    return joint;
  });
  opt.step();
  opt.zeroGrad();
  losses.push(await loss.item());                // the only readback of the step
  loss.dispose();
}

model.eval();                                    // batchnorm folded into the convolutions
const out = noGrad(() => model.forward(x));
const e = Array.from(await out.normalizedEmbedding.toArray());  // 8 unit rows
const d = model.embeddingDim;
const cosine = (i: number, j: number) => e.slice(i * d, i * d + d).reduce((s, v, k) => s + v * e[j * d + k], 0);
// Each image's nearest other image by cosine similarity: its twin (1, 0, 3, 2, ...).
const nearest = ids.map((_, i) => ids.map((_, j) => j).filter((j) => j !== i)
  .reduce((best, j) => (cosine(i, j) > cosine(i, best) ? j : best)));
console.log(JSON.stringify({ losses, nearest }));
await shutdown();                                // destroys the device so Node exits
