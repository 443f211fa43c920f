import { readFileSync, writeFileSync } from 'node:fs';
const mg = await import('./dist/node/index.js');
await mg.init();
const fixture = mg.readSafetensors(new Uint8Array(readFileSync('kernels-test/nn/fixtures/resnet50_w2.safetensors'))).tensors;
const f32 = (n) => mg.hostTensorToFloat32(fixture.get(n));
mg.setConv2dWinograd('always', 4);
const model = new mg.ResNet({ depth: 50, baseWidth: 2, numClasses: 10 });
const w = new Map(); for (const [k, v] of fixture) if (k.startsWith('w.')) w.set(k.slice(2), v);
model.loadStateDict(w);
const x = mg.tensor(f32('input'), fixture.get('input').shape);
model.train(); x.requiresGrad = true;
const logits = model.forward(x);
mg.backward(logits, { gradient: mg.tensor(f32('G'), logits.shape) });
const out = {};
for (const [name, p] of model.namedParameters()) {
  const a = await p.grad.toArray(); const r = f32('g.' + name);
  let e = 0, m = 0; for (let i = 0; i < r.length; i++) { e = Math.max(e, Math.abs(a[i] - r[i])); m = Math.max(m, Math.abs(r[i])); }
  out[name] = e / m;
}
writeFileSync(process.env.OUT, JSON.stringify(out));
await mg.shutdown();
