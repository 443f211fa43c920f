// The original's pre_classifier: the trunk's dropout before the classifier, in training mode
// only, scaled by 1 / (1 - p) (SENet154 0.2, the NASNets 0.5, none for ResNets). With the
// classifier set to the identity, each training-mode logit is 0 or 2 x its embedding value at
// p = 0.5 (both occur), eval mode and p = 0 give the embedding itself.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { init, tensor, noGrad, MultiGrain, preClassifierDropout } from '../../src/index.js';

const test = suite('pre-classifier');

test.before(async () => {
  await init();
});

test('defaults follow the original trunks', () => {
  assert.equal([18, 50, 'senet154', 'pnasnet5large', 'nasnetamobile'].map((b) => preClassifierDropout(b as 18)), [0, 0, 0.2, 0.5, 0.5]);
  assert.is(new MultiGrain({ backbone: 18, baseWidth: 2, numClasses: 3 }).options.dropout, 0);
});

for (const p of [0.5, 0]) {
  test(`dropout ${p}: training-mode logits are the embedding masked and scaled; eval mode leaves it`, async () => {
    const model = new MultiGrain({ backbone: 18, baseWidth: 2, numClasses: 16, dropout: p, seed: 3 });
    const d = model.embeddingDim;
    const eye = new Float32Array(d * d).map((_, i) => (i % (d + 1) === 0 ? 1 : 0));
    model.classifier.weight.assign(eye);
    model.classifier.bias!.assign(new Float32Array(d));
    const f = tensor(Float32Array.from({ length: 4 * d * 9 }, (_, i) => 0.5 + Math.sin(i)), [4, d, 3, 3]);
    model.train();
    const out = noGrad(() => model.head(f));
    const [e, logits] = [await out.embedding.toArray(), await out.logits.toArray()];
    let dropped = 0;
    let kept = 0;
    e.forEach((v, i) => {
      const l = logits[i]!;
      if (p > 0 && Math.abs(l) < 1e-6) dropped++;
      else if (Math.abs(l - v / (1 - p)) < 1e-5 * Math.max(1, Math.abs(v))) kept++;
    });
    assert.is(dropped + kept, e.length, 'every logit is dropped or scaled');
    if (p > 0) assert.ok(dropped > 0.3 * e.length && kept > 0.3 * e.length, `${dropped} dropped, ${kept} kept of ${e.length}`);
    else assert.is(kept, e.length);
    model.eval();
    const ev = noGrad(() => model.head(f));
    assert.equal(Array.from(await ev.logits.toArray()).map((v) => v.toFixed(5)), Array.from(await ev.embedding.toArray()).map((v) => v.toFixed(5)));
  });
}

test.run();
