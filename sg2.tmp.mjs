// prototype: subgroup-broadcast matmul (lavapipe, subgroup size 8)
const mg = await import('./dist/node/index.js');
const SY = Number(process.env.SY ?? 2), SX = 8 / SY;
const C2 = process.env.MODE === 'c2';
const GW = C2 ? 16 : 8;
function kernel() {
  const L = [];
  L.push(`enable subgroups;
struct Params { M: u32, N: u32, K: u32, groups: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> ${process.env.MODE === 'k4' ? 'A4: array<vec4f>' : 'A: array<f32>'};
@group(0) @binding(2) var<storage, read> B: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> C: array<vec4f>;
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32, @builtin(subgroup_invocation_id) lane: u32, @builtin(subgroup_size) sgs: u32) {
  let s = lid / 8u;
  let m0 = (wid.y * ${SY}u + s / ${SX}u) * 32u;
  let g = (wid.x * ${SX}u + s % ${SX}u) * ${GW}u + lane;
  let gc = min(g, params.groups - 1u);
  let gc2 = min(g + 8u, params.groups - 1u);
  let K = params.K;
  let z = wid.z;
  let aB = z * params.M * K;
  let bB = z * K * params.groups;
  let cB = z * params.M * params.groups;
  let last = params.M - 1u;`);
  for (let i = 0; i < 4; i++) L.push(`  let ra${i} = aB + min(m0 + lane + ${8 * i}u, last) * K;`);
  for (let r = 0; r < 32; r++) L.push(`  var c${r} = vec4f(0.0); var d${r} = vec4f(0.0);`);
  const MODE = process.env.MODE ?? '';
  if (MODE === 'fp') {
    for (let i = 0; i < 4; i++) L.push(`    let a${i} = A[ra${i}];`);
    L.push(`    let b = B[gc];`);
  }
  if (MODE === 'k4') {
    L.push(`  for (var k = 0u; k < K; k += 4u) {`);
    for (let i = 0; i < 4; i++) L.push(`    let a${i} = A4[(ra${i} + k) / 4u];`);
    for (let j = 0; j < 4; j++) L.push(`    let b${j} = B[(k + ${j}u) * params.groups + gc];`);
    for (let j = 0; j < 4; j++) for (let r = 0; r < 32; r++) L.push(`    c${r} = fma(vec4f(subgroupBroadcast(a${r >> 3}.${'xyzw'[j]}, ${r & 7}u)), b${j}, c${r});`);
  } else {
  L.push(`  for (var k = 0u; k < K; k++) {`);
  if (MODE !== 'fp') {
    for (let i = 0; i < 4; i++) L.push(`    let a${i} = A[ra${i} + k];`);
    L.push(`    let b = B[bB + k * params.groups + gc];`);
  }
  if (C2) {
    L.push(`    let b2 = B[bB + k * params.groups + gc2];`);
    for (let r = 0; r < 32; r++) L.push(`    { let a = vec4f(subgroupBroadcast(a${r >> 3}, ${r & 7}u)); c${r} = fma(a, b, c${r}); d${r} = fma(a, b2, d${r}); }`);
  } else if (MODE === 'load') L.push(`    c0 += vec4f(a0 + a1 + a2 + a3) + b;`);
  else for (let r = 0; r < 32; r++) L.push(`    c${r} = fma(vec4f(subgroupBroadcast(a${r >> 3}, ${r & 7}u)), b, c${r});`);
  }
  L.push(`  }`);
  L.push(`  if (g < params.groups) {`);
  for (let r = 0; r < 32; r++) L.push(`    if (m0 + ${r}u <= last) { C[cB + (m0 + ${r}u) * params.groups + g] = c${r}; }`);
  L.push(`  }`);
  if (C2) {
    L.push(`  if (g + 8u < params.groups) {`);
    for (let r = 0; r < 32; r++) L.push(`    if (m0 + ${r}u <= last) { C[cB + (m0 + ${r}u) * params.groups + g + 8u] = d${r}; }`);
    L.push(`  }`);
  }
  L.push(`}`);
  return L.join('\n');
}
const rt = await mg.init();
const device = mg.runtime().device;
console.log('features', [...device.features].join(' '));
const module = device.createShaderModule({ code: kernel() });
const info = await module.getCompilationInfo();
for (const m of info.messages) console.log(m.type, m.lineNum, m.message);
const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
function buf(data, usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST) {
  const b = device.createBuffer({ size: Math.max(16, data.byteLength), usage });
  device.queue.writeBuffer(b, 0, data);
  return b;
}
async function run(M, N, K, reps = 1, Z = 1) {
  const a = Float32Array.from({ length: Z * M * K }, (_, i) => Math.sin(i * 0.37));
  const b = Float32Array.from({ length: Z * K * N }, (_, i) => Math.cos(i * 0.11));
  const A = buf(a), B = buf(b), C = buf(new Float32Array(Z * M * N));
  const P = buf(Uint32Array.of(M, N, K, N / 4), GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
  const bg = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [P, A, B, C].map((buffer, i) => ({ binding: i, resource: { buffer } })) });
  const times = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass(); pass.setPipeline(pipeline); pass.setBindGroup(0, bg);
    pass.dispatchWorkgroups(Math.ceil(N / 4 / (SX * GW)), Math.ceil(M / (SY * 32)), Z); pass.end();
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone();
    times.push(performance.now() - t0);
  }
  const read = device.createBuffer({ size: Z * M * N * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const enc = device.createCommandEncoder(); enc.copyBufferToBuffer(C, 0, read, 0, Z * M * N * 4); device.queue.submit([enc.finish()]);
  await read.mapAsync(GPUMapMode.READ);
  const c = new Float32Array(read.getMappedRange().slice(0));
  // ours for comparison
  const ta = mg.tensor(a, [Z, M, K]), tb = mg.tensor(b, [Z, K, N]);
  const ours = [];
  let ref;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    const tc = mg.matmul(ta, tb);
    await mg.runtime().sync();
    ours.push(performance.now() - t0);
    if (r === reps - 1) ref = await tc.toArray();
    tc.dispose();
  }
  let err = 0, mx = 0;
  for (let i = 0; i < Z * M * N; i++) { err = Math.max(err, Math.abs(c[i] - ref[i])); mx = Math.max(mx, Math.abs(ref[i])); }
  const med = (x) => x.sort((p, q) => p - q)[Math.floor(x.length / 2)];
  const gf = (t) => (2 * Z * M * N * K / t / 1e6).toFixed(1);
  console.log(`b${Z} ${M}x${N}x${K}: max err ${(err / mx).toExponential(2)} | subgroup ${med(times).toFixed(1)} ms ${gf(med(times))} GFLOP/s | ours ${med(ours).toFixed(1)} ms ${gf(med(ours))} GFLOP/s`);
}
const reps = Number(process.env.REPS ?? 1);
for (const [M, N, K, Z] of JSON.parse(process.env.SHAPES ?? '[[70,132,33],[256,256,256]]')) await run(M, N, K, reps, Z ?? 1);
await mg.shutdown();
