// Convolution kernel benchmark: forward, input gradient (dgrad) and weight gradient (wgrad)
// for the ResNet-50 convolutions at batch 8 @224 and the ResNet-18 ones at batch 32 @64.
//
//   node tools/build.mjs && node bench/conv.js [--set r50|r18|se154|all] [--ops fwd,dgrad,wgrad]
//        [--runs 5] [--strategy auto|direct|tiled|both] [--filter text] [--batch N] [--quick]
//        [--tile rows,cgroups,colt[,swap]] [--winograd auto|always|never|both]
//        [--dedicated on|off|both]
//
// --batch replaces every case's batch size (e.g. --set r50 --batch 1: inference latency shapes).
// --tile forces the direct schedule's tile (tune({ convDirectTile }); `swap` = pixels on the
// scalar side; the weight gradient ignores swap), for measuring the tile model's speeds.
// --winograd sets tune({ winograd }) for the 3x3 stride-1 convolutions (`both`: each
// such case with 'never' and 'always', side by side); `algo` says what ran. GFLOP/s always
// counts the direct convolution's 2·N·Cout·OH·OW·Cin·k² (Winograd's is an effective rate).
// --dedicated sets tune({ convDepthwise }): the depthwise and grouped kernels ('on', default) or
// the implicit GEMM everywhere ('off'); `both`: each pass that has a dedicated kernel with the
// GEMM and with it, side by side (totals once each way).
//
// Prints one JSON object per line (name, shape, op, strategy, median_ms, gflops, ...), then a
// table. Each case runs once to warm up (pipeline compile), then `runs` times; the time of
// one run is the wall time from recording the dispatches to `await runtime().sync()`. On a
// shared CPU (lavapipe) the figures are noisy: compare within one run.
import * as mg from '../dist/node/index.js';

const args = process.argv.slice(2);
const flag = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const quick = args.includes('--quick');
const set = flag('set', 'all');
const ops = flag('ops', 'fwd,dgrad,wgrad').split(',');
const runs = Number(flag('runs', quick ? 3 : 5));
const strategyArg = flag('strategy', 'auto');
const filter = flag('filter', '');
const batchOverride = flag('batch', null);
const tileArg = flag('tile', null);
const winogradArg = flag('winograd', 'auto');
const winogradModes = winogradArg === 'both' ? ['never', 'always'] : [winogradArg];
const dedicatedArg = flag('dedicated', 'on');
if (!['on', 'off', 'both'].includes(dedicatedArg)) throw new Error(`--dedicated must be on, off or both, got ${dedicatedArg}`);
const dedicatedModes = dedicatedArg === 'both' ? [false, true] : [dedicatedArg === 'on'];
const isDedicated = (algo) => algo === 'depthwise' || algo === 'grouped';

// [name, N, Cin, H, Cout, k, stride, pad]; square images and kernels.
const r50 = [
  ['r50.conv1', 8, 3, 224, 64, 7, 2, 3],
  ['r50.l1.1x1a', 8, 64, 56, 64, 1, 1, 0],
  ['r50.l1.3x3', 8, 64, 56, 64, 3, 1, 1],
  ['r50.l1.1x1b', 8, 64, 56, 256, 1, 1, 0],
  ['r50.l1.1x1c', 8, 256, 56, 64, 1, 1, 0],
  ['r50.l2.1x1a', 8, 256, 56, 128, 1, 1, 0],
  ['r50.l2.3x3s2', 8, 128, 56, 128, 3, 2, 1],
  ['r50.l2.ds', 8, 256, 56, 512, 1, 2, 0],
  ['r50.l2.3x3', 8, 128, 28, 128, 3, 1, 1],
  ['r50.l2.1x1b', 8, 128, 28, 512, 1, 1, 0],
  ['r50.l2.1x1c', 8, 512, 28, 128, 1, 1, 0],
  ['r50.l3.3x3s2', 8, 256, 28, 256, 3, 2, 1],
  ['r50.l3.ds', 8, 512, 28, 1024, 1, 2, 0],
  ['r50.l3.3x3', 8, 256, 14, 256, 3, 1, 1],
  ['r50.l3.1x1b', 8, 256, 14, 1024, 1, 1, 0],
  ['r50.l3.1x1c', 8, 1024, 14, 256, 1, 1, 0],
  ['r50.l4.3x3s2', 8, 512, 14, 512, 3, 2, 1],
  ['r50.l4.ds', 8, 1024, 14, 2048, 1, 2, 0],
  ['r50.l4.3x3', 8, 512, 7, 512, 3, 1, 1],
  ['r50.l4.1x1b', 8, 512, 7, 2048, 1, 1, 0],
  ['r50.l4.1x1c', 8, 2048, 7, 512, 1, 1, 0],
];
const r18 = [
  ['r18.conv1', 32, 3, 64, 64, 7, 2, 3],
  ['r18.l1.3x3', 32, 64, 16, 64, 3, 1, 1],
  ['r18.l2.3x3s2', 32, 64, 16, 128, 3, 2, 1],
  ['r18.l2.ds', 32, 64, 16, 128, 1, 2, 0],
  ['r18.l2.3x3', 32, 128, 8, 128, 3, 1, 1],
  ['r18.l3.3x3s2', 32, 128, 8, 256, 3, 2, 1],
  ['r18.l3.ds', 32, 128, 8, 256, 1, 2, 0],
  ['r18.l3.3x3', 32, 256, 4, 256, 3, 1, 1],
  ['r18.l4.3x3s2', 32, 256, 4, 512, 3, 2, 1],
  ['r18.l4.ds', 32, 256, 4, 512, 1, 2, 0],
  ['r18.l4.3x3', 32, 512, 2, 512, 3, 1, 1],
];
// SENet154's grouped 3x3 convolutions (conv2 of each stage's blocks: 64 groups, Cin/g = 2..16,
// Cout/g = 4..32, the first block at stride 2) at batch 1 @224;
// the 9th entry is the group count.
const se154 = [
  ['se154.l1.g64', 1, 128, 56, 256, 3, 1, 1, 64],
  ['se154.l2.g64s2', 1, 256, 56, 512, 3, 2, 1, 64],
  ['se154.l2.g64', 1, 256, 28, 512, 3, 1, 1, 64],
  ['se154.l3.g64s2', 1, 512, 28, 1024, 3, 2, 1, 64],
  ['se154.l3.g64', 1, 512, 14, 1024, 3, 1, 1, 64],
  ['se154.l4.g64s2', 1, 1024, 14, 2048, 3, 2, 1, 64],
  ['se154.l4.g64', 1, 1024, 7, 2048, 3, 1, 1, 64],
];
const sets = { r50, r18, se154, all: [...r50, ...r18] };
if (!sets[set]) throw new Error(`--set must be ${Object.keys(sets).join(', ')}, got ${set}`);
let cases = sets[set];
if (quick) cases = cases.filter(([name]) => /conv1|l1\.3x3|l2\.3x3s2|l2\.ds|l3\.1x1c|l4\.3x3$|r18\.l2\.3x3$/.test(name));
if (filter) cases = cases.filter(([name]) => name.includes(filter));
if (batchOverride) cases = cases.map(([name, , ...rest]) => [name, Number(batchOverride), ...rest]);

const rt = await mg.init();
if (tileArg) {
  const [rows, cgroups, colt, swap] = tileArg.split(',');
  mg.tune({ convDirectTile: { rows: Number(rows), cgroups: Number(cgroups), colt: Number(colt), swap: swap === 'swap' || swap === '1' } });
}
const strategies = strategyArg === 'both' ? ['direct', 'tiled'] : [mg.conv2dResolvedStrategy(strategyArg)];
const info = rt.gpu.adapterInfo;
console.error(`adapter: ${info.description || info.device || info.vendor} (${info.architecture}); strategies: ${strategies.join(', ')}`);

function randomTensor(shape) {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  let s = 12345;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    data[i] = (s / 4294967296 - 0.5) * 0.1;
  }
  return mg.tensor(data, shape);
}

// Wall time, and the process's CPU time (all threads, lavapipe's included): on a shared
// machine the CPU time is the steadier figure.
async function time(fn) {
  await rt.sync();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const out = fn();
  await rt.sync();
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  out.dispose();
  return { ms, cpu: (c.user + c.system) / 1000 };
}

async function measure(op, strategy, x, w, dy, opts, flops) {
  const fn = op === 'fwd' ? () => mg.conv2dRaw(x, w, null, opts, {}, strategy)
    : op === 'dgrad' ? () => mg.conv2dGradInput(dy, w, x.shape, opts, strategy)
      : () => mg.conv2dGradWeight(dy, x, w.shape, opts, strategy);
  await time(fn); // warm-up (compiles the pipeline)
  const samples = [];
  for (let r = 0; r < runs; r++) samples.push(await time(fn));
  const times = samples.map((t) => t.ms).sort((a, b) => a - b);
  const cpus = samples.map((t) => t.cpu).sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)];
  const cpu = cpus[Math.floor(cpus.length / 2)];
  return {
    median_ms: +median.toFixed(2), min_ms: +times[0].toFixed(2), gflops: +(flops / median / 1e6).toFixed(2),
    cpu_ms: +cpu.toFixed(1), gflop_per_cpu_s: +(flops / cpu / 1e6).toFixed(2), gflop: +(flops / 1e9).toFixed(3), runs,
    ...(tileArg ? { tile: tileArg } : {}),
  };
}

const rows = [];
for (const [name, N, Cin, H, Cout, k, stride, pad, groups = 1] of cases) {
  const opts = { stride, padding: pad, groups };
  const x = randomTensor([N, Cin, H, H]);
  const w = randomTensor([Cout, Cin / groups, k, k]);
  const OH = Math.floor((H + 2 * pad - k) / stride) + 1;
  const dy = randomTensor([N, Cout, OH, OH]);
  const flops = (2 * N * Cout * OH * OH * Cin * k * k) / groups;
  const shape = `${N}x${Cin}x${H}x${H} -> ${Cout} k${k} s${stride} p${pad}${groups > 1 ? ` g${groups}` : ''} (${OH}x${OH})`;
  for (const strategy of strategies) {
    for (const op of ops) {
      if (op === 'dgrad' && Cin === 3) continue; // the image needs no gradient
      for (const mode of winogradModes) {
        for (const dedicated of dedicatedModes) {
          mg.tune({ winograd: mode, convDepthwise: dedicated });
          const pass = { fwd: 'forward', dgrad: 'gradInput', wgrad: 'gradWeight' }[op];
          const algo = mg.conv2dAlgorithm(x.shape, w.shape, opts, pass, strategy);
          if (mode === 'always' && winogradModes.length > 1 && !algo.startsWith('winograd')) continue; // same run as 'never'
          if (dedicated && dedicatedModes.length > 1 && !isDedicated(algo)) continue; // same run as 'off'
          const row = { name, shape, op, strategy, algo, ...(await measure(op, strategy, x, w, dy, opts, flops)) };
          rows.push(row);
          console.log(JSON.stringify(row));
        }
      }
    }
  }
  x.dispose();
  w.dispose();
  dy.dispose();
}

const pad = (s, n) => String(s).padEnd(n);
const lpad = (s, n) => String(s).padStart(n);
console.log('');
console.log(`${pad('name', 14)} ${pad('shape', 40)} ${pad('op', 6)} ${pad('sched', 7)} ${pad('algo', 12)} ${lpad('median ms', 10)} ${lpad('GFLOP/s', 8)} ${lpad('cpu ms', 8)} ${lpad('GF/cpu-s', 9)}`);
for (const r of rows) console.log(`${pad(r.name, 14)} ${pad(r.shape, 40)} ${pad(r.op, 6)} ${pad(r.strategy, 7)} ${pad(r.algo, 12)} ${lpad(r.median_ms.toFixed(1), 10)} ${lpad(r.gflops.toFixed(2), 8)} ${lpad(r.cpu_ms.toFixed(0), 8)} ${lpad(r.gflop_per_cpu_s.toFixed(2), 9)}`);
// Totals per schedule and op; with --winograd both, once with the GEMM everywhere and once with
// Winograd wherever it applies (a case has a 'winograd-*' row only where it applies).
const isWinograd = (r) => r.algo.startsWith('winograd');
const hasWinogradRow = (r) => rows.some((q) => q.name === r.name && q.op === r.op && q.strategy === r.strategy && isWinograd(q));
const inTotal = (r, mode) => (mode === 'never' ? !isWinograd(r) : isWinograd(r) || !hasWinogradRow(r));
const hasDedicatedRow = (r) => rows.some((q) => q.name === r.name && q.op === r.op && q.strategy === r.strategy && isDedicated(q.algo));
const inDedicatedTotal = (r, on) => (on ? isDedicated(r.algo) || !hasDedicatedRow(r) : !isDedicated(r.algo));
for (const strategy of strategies) {
  for (const op of ops) {
    for (const mode of winogradModes) for (const dedicated of dedicatedModes) {
      const sel = rows.filter((r) => r.op === op && r.strategy === strategy && inTotal(r, mode) && (dedicatedModes.length === 1 || inDedicatedTotal(r, dedicated)));
      if (!sel.length || (mode !== 'never' && winogradModes.length > 1 && !sel.some(isWinograd))) continue;
      if (dedicated && dedicatedModes.length > 1 && !sel.some((r) => isDedicated(r.algo))) continue;
      const ms = sel.reduce((a, r) => a + r.median_ms, 0);
      const cpu = sel.reduce((a, r) => a + r.cpu_ms, 0);
      const gf = sel.reduce((a, r) => a + r.gflop, 0);
      const label = [strategy, ...(winogradModes.length > 1 ? [`winograd ${mode}`] : []), ...(dedicatedModes.length > 1 ? [dedicated ? 'dedicated kernels' : 'GEMM only'] : [])].join(', ');
      console.log(`total ${op} (${label}): ${ms.toFixed(0)} ms for ${gf.toFixed(1)} GFLOP = ${(gf / ms * 1e3).toFixed(2)} GFLOP/s (${(gf / cpu * 1e3).toFixed(2)} GFLOP per CPU-second)`);
    }
  }
}
await mg.shutdown?.();
