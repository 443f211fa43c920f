import { readFileSync } from 'node:fs';
const mg = await import('./dist/node/index.js');
await mg.init();
const fixture = mg.readSafetensors(new Uint8Array(readFileSync('kernels-test/nn/fixtures/resnet50_w2.safetensors'))).tensors;
const f32 = (n) => mg.hostTensorToFloat32(fixture.get(n));
mg.setConv2dWinograd('always', 4);
const model = new mg.ResNet({ depth: 50, baseWidth: 2, numClasses: 10 });
const w = new Map(); for (const [k, v] of fixture) if (k.startsWith('w.')) w.set(k.slice(2), v);
model.loadStateDict(w);
const x = mg.tensor(f32('input'), fixture.get('input').shape);
model.train();
x.requiresGrad = true; const logits = model.forward(x);
for (const [name, t] of model.namedBuffers()) {
  if (!name.includes('running_var')) continue;
  const a = await t.toArray(); const r = f32('rs.' + name);
  let e = 0, m = 0; for (let i = 0; i < r.length; i++) { e = Math.max(e, Math.abs(a[i] - r[i])); m = Math.max(m, Math.abs(r[i])); }
  if (e / m > 1e-4) console.log(name, (e / m).toExponential(2));
}
await mg.shutdown();
