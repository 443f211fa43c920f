// Weights of the original release's other trunks, loaded without renaming: Cadene's ImageNet
// state dicts (`layer0.*`, `conv_0.*`, `conv0.*`, ..., `last_linear.*`) through
// --pretrained-backbone (every trunk tensor lands at its MultiGrain name, the widths are read from
// the file), and the original's fine-tuned NASNet checkpoint (`model_state` with
// `features.0.base_net.*`, its `last_linear` alias of `classifier`, `pool.p`) through
// openMultiGrain, whose eval logits must match PyTorch's (tools/gen_trunk_fixtures.py).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import {
  init, tensor, noGrad, readSafetensors, hostTensorToFloat32, MultiGrain, readStateDict, loadPretrainedTrunk, pretrainedTrunkOptions,
  openMultiGrain, trunkKeyPrefix,
} from '../../src/index.js';

const test = suite('trunk-weights');
const FIXTURES = 'kernels-test/nn/fixtures';

test.before(async () => {
  await init();
});

for (const name of ['senet154', 'pnasnet5large', 'nasnetamobile'] as const) {
  test(`${name}: --pretrained-backbone loads Cadene's ImageNet state dict, every tensor at its name`, async () => {
    const path = `${FIXTURES}/${name}_imagenet.pth`;
    const trunkOptions = await pretrainedTrunkOptions(path, name);
    const model = new MultiGrain({ backbone: name, numClasses: 7, trunkOptions });
    await loadPretrainedTrunk(model, path);
    const dict = await readStateDict(path);
    const own = model.stateTensors();
    let compared = 0;
    for (const [key, t] of dict) {
      if (key.startsWith('last_linear.') || key.endsWith('num_batches_tracked')) continue;
      const mine = own.get(trunkKeyPrefix(name) + key);
      assert.ok(mine, `the model has ${trunkKeyPrefix(name)}${key}`);
      assert.equal(Array.from(await mine.toArray()), Array.from(hostTensorToFloat32(t)), key);
      compared++;
    }
    assert.is(compared, [...own.keys()].filter((k) => k.startsWith('features.')).length, 'every trunk tensor came from the file');
  });
}

test('a file of another trunk is refused, naming both', async () => {
  let message = '';
  try {
    await pretrainedTrunkOptions(`${FIXTURES}/senet154_imagenet.pth`, 'nasnetamobile');
  } catch (err) {
    message = (err as Error).message;
  }
  assert.match(message, /senet154_imagenet\.pth: --backbone nasnetamobile, but the file holds SENet154/);
});

test("openMultiGrain recognises the original's fine-tuned NASNet-A-Mobile and matches PyTorch", async () => {
  const { model, architecture } = await openMultiGrain(`${FIXTURES}/nasnetamobile_multigrain.pth`);
  assert.is(architecture.backbone, 'nasnetamobile');
  assert.equal(architecture.trunkOptions, { stemFilters: 4, penultimateFilters: 192 });
  assert.is(architecture.numClasses, 5);
  assert.is(architecture.poolingExponent, 3);
  const fixture = readSafetensors(new Uint8Array(readFileSync(`${FIXTURES}/nasnetamobile_tiny.safetensors`))).tensors;
  const x = tensor(hostTensorToFloat32(fixture.get('input')!), fixture.get('input')!.shape);
  model.eval();
  const out = noGrad(() => model.forward(x));
  const got = await out.logits.toArray();
  const want = hostTensorToFloat32(fixture.get('eval.logits')!);
  const scale = Math.max(...want.map(Math.abs));
  want.forEach((v, i) => assert.ok(Math.abs(got[i]! - v) < 1e-4 * scale, `logit ${i}: ${got[i]} vs ${v}`));
});

test.run();
