// Parity of the original release's other trunks with PyTorch: reduced SENet154, PNASNet-5-Large
// and NASNet-A-Mobile (every cell type and module name of the published nets, narrower; written
// by tools/gen_trunk_fixtures.py from the reference definitions of tools/torch_trunks.py) inside
// MultiGrain's head (GeM p = 3, pre_classifier dropout off, classifier). The fixtures hold the
// original's MultiGrain state dict, loaded here by name without renaming; the architecture is read
// from its keys (inferArchitecture). Checked against PyTorch's float64: eval-mode embedding and
// logits (the folded inference path) within 1e-4 of their largest value, train-mode embedding and
// logits within 1e-4, and the gradients of loss = sum(logits * G) + sum(embedding * Hm) with
// respect to the input and every parameter within 3e-3 of each one's largest magnitude (the
// ResNet parity test's bound: batchnorm over few values in float32).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import {
  init, tensor, backward, noGrad, add, sum, mul, readSafetensors, hostTensorToFloat32, MultiGrain, inferArchitecture, type StateDict,
} from '../../src/index.js';

const test = suite('trunks');

function readFixture(name: string): StateDict {
  return readSafetensors(new Uint8Array(readFileSync(`kernels-test/nn/fixtures/${name}_tiny.safetensors`))).tensors;
}

function f32(fixture: StateDict, name: string): Float32Array {
  const t = fixture.get(name);
  if (!t) throw new Error(`fixture has no ${name}`);
  return hostTensorToFloat32(t);
}

function withPrefix(fixture: StateDict, prefix: string): StateDict {
  const out: StateDict = new Map();
  for (const [k, v] of fixture) if (k.startsWith(prefix)) out.set(k.slice(prefix.length), v);
  return out;
}

function relMaxError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  assert.is(actual.length, expected.length, 'sizes');
  let maxErr = 0;
  let maxRef = 0;
  for (let i = 0; i < expected.length; i++) {
    maxErr = Math.max(maxErr, Math.abs(actual[i] - expected[i]));
    maxRef = Math.max(maxRef, Math.abs(expected[i]));
  }
  return maxErr / Math.max(maxRef, 1e-12);
}

/** The original's NASNet files repeat the classifier as the trunk's own last_linear. */
const alias = (k: string): boolean => k.endsWith('num_batches_tracked') || k.startsWith('features.0.base_net.last_linear.');

test.before(async () => {
  await init();
});

const EXPECTED_OPTIONS = {
  senet154: { layers: [1, 2, 1, 1], groups: 4, reduction: 4, inplanes: 8, width: 4 },
  pnasnet5large: { stem: 4, f: 2 },
  nasnetamobile: { stemFilters: 4, penultimateFilters: 192 },
} as const;

for (const name of ['senet154', 'pnasnet5large', 'nasnetamobile'] as const) {
  test(`${name}: architecture from the keys, the original's state dict loads by name, outputs and gradients match PyTorch`, async () => {
    const fixture = readFixture(name);
    const dict = withPrefix(fixture, 'w.');
    const arch = inferArchitecture(dict, name);
    assert.is(arch.backbone, name);
    assert.equal(arch.trunkOptions, EXPECTED_OPTIONS[name]);
    assert.is(arch.numClasses, 5);
    assert.is(arch.poolingExponent, 3);
    const model = new MultiGrain({ backbone: name, numClasses: arch.numClasses, poolingExponent: 3, trunkOptions: arch.trunkOptions, dropout: 0 });
    model.loadStateDict(dict, { ignore: alias });
    const x = tensor(f32(fixture, 'input'), fixture.get('input')!.shape);

    model.eval();
    const evalOut = noGrad(() => model.forward(x));
    for (const what of ['embedding', 'logits'] as const) {
      const err = relMaxError(await evalOut[what].toArray(), f32(fixture, `eval.${what}`));
      assert.ok(err < 1e-4, `eval ${what}: max error ${err} of the largest value`);
    }

    model.train();
    x.requiresGrad = true;
    const out = model.forward(x);
    for (const what of ['embedding', 'logits'] as const) {
      const err = relMaxError(await out[what].toArray(), f32(fixture, `train.${what}`));
      assert.ok(err < 1e-4, `train ${what}: max error ${err} of the largest value`);
    }
    const g = tensor(f32(fixture, 'G'), out.logits.shape);
    const h = tensor(f32(fixture, 'Hm'), out.embedding.shape);
    const loss = add(sum(mul(out.logits, g)), sum(mul(out.embedding, h)));
    backward(loss);
    const errors: [string, number][] = [['input', relMaxError(await x.grad!.toArray(), f32(fixture, 'g.input'))]];
    let checked = 0;
    for (const [key, p] of model.namedParameters()) {
      if (!fixture.has(`g.${key}`)) continue;
      errors.push([key, relMaxError(await p.grad!.toArray(), f32(fixture, `g.${key}`))]);
      checked++;
    }
    assert.is(checked, model.parameters().length, 'every parameter has a PyTorch gradient');
    errors.sort((a, b) => b[1] - a[1]);
    assert.ok(errors[0]![1] < 3e-3, `largest gradient error ${errors[0]![1]} at ${errors[0]![0]}`);
  });
}

test.run();
