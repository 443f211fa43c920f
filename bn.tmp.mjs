import { readFileSync } from 'node:fs';
const mg = await import('./dist/node/index.js');
await mg.init();
const fixture = mg.readSafetensors(new Uint8Array(readFileSync('kernels-test/nn/fixtures/resnet50_w2.safetensors'))).tensors;
const f32 = (n) => mg.hostTensorToFloat32(fixture.get(n));
mg.setConv2dWinograd(process.env.MODE ?? 'always', Number(process.env.TILE ?? 4));
const model = new mg.ResNet({ depth: 50, baseWidth: 2, numClasses: 10 });
const w = new Map(); for (const [k, v] of fixture) if (k.startsWith('w.')) w.set(k.slice(2), v);
model.loadStateDict(w);
const x = mg.tensor(f32('input'), fixture.get('input').shape);
model.train(); x.requiresGrad = true;
const logits = model.forward(x);
mg.backward(logits, { gradient: mg.tensor(f32('G'), logits.shape) });
for (const [name, p] of model.namedParameters()) if (name.startsWith('bn1.') || name === 'conv1.weight') {
  const a = await p.grad.toArray(); const r = f32('g.' + name);
  console.log(name, Array.from(a.slice(0, 4)).map((v) => v.toExponential(4)).join(' '), '| ref', Array.from(r.slice(0, 4)).map((v) => v.toExponential(4)).join(' '));
}
await mg.shutdown();
