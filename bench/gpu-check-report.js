// Assembles bench/gpu-check.sh's results into its one JSON file: the steps (exit status,
// seconds), the adapter report, the test summary, the benchmark rows, the PyTorch peer's rows
// and the side-by-side ratios against the design goals (docs/performance.md).
//
//   node bench/gpu-check-report.js WORK_DIR RESULT.json QUICK(0|1)
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostname, cpus } from 'node:os';
import { writeJsonAtomic } from './json-out.js';

const [work, result, quick] = process.argv.slice(2);
if (!work || !result) throw new Error('usage: node bench/gpu-check-report.js WORK_DIR RESULT.json QUICK');

/** Design goals against PyTorch fp32 (TF32 off), as fractions of its images/s. */
const GOALS = { train: 0.5, infer: 0.7 };

const readJson = (name) => (existsSync(join(work, name)) ? JSON.parse(readFileSync(join(work, name), 'utf8')) : null);
const readLog = (name) => (existsSync(join(work, `${name}.log`)) ? readFileSync(join(work, `${name}.log`), 'utf8') : '');
const jsonLines = (text) => text.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));

function testSummary() {
  const log = readLog('tests');
  const count = (what) => Number(new RegExp(`${what}:\\s+(\\d+)`).exec(log)?.[1] ?? NaN);
  const failures = log.split('\n').filter((l) => /✘|FAIL/.test(l)).slice(0, 40);
  return { total: count('Total'), passed: count('Passed'), skipped: count('Skipped'), failures, tail: log.split('\n').slice(-15).join('\n') };
}

function sideBySide(ours, torch) {
  return torch.map((t) => {
    const row = { name: t.name, torch_ms: t.median_ms, torch_images_per_s: t.images_per_s };
    const mode = t.name.includes('-train-') ? 'train' : 'infer';
    for (const [suffix, key] of [['', 'f32'], ['-f16', 'f16']]) {
      const o = ours.find((r) => r.name === t.name + suffix);
      if (!o) continue;
      const ratio = Number((o.images_per_s / t.images_per_s).toFixed(3));
      row[key] = { ours_ms: o.median_ms, ours_images_per_s: o.images_per_s, fraction_of_torch: ratio, goal: GOALS[mode], meets_goal: ratio >= GOALS[mode] };
    }
    return row;
  });
}

const steps = jsonLines(readFileSync(join(work, 'steps.jsonl'), 'utf8'));
const resnet = readJson('resnet.json') ?? [];
const torch = jsonLines(readLog('torch'));
const report = {
  check: 'bench/gpu-check.sh',
  mode: quick === '1' ? 'quick' : 'full',
  finished: new Date().toISOString(),
  host: { hostname: hostname(), cpu: cpus()[0]?.model ?? '', cores: cpus().length, node: process.version },
  steps,
  adapter: readJson('info.json'),
  tests: testSummary(),
  resnet,
  train: readJson('train.json'),
  knn: readJson('knn.json'),
  data: readJson('data.json'),
  torch,
  side_by_side: sideBySide(resnet, torch),
  goals: GOALS,
};
writeJsonAtomic(result, report);
const failed = steps.filter((s) => s.rc !== undefined && s.rc !== 0).map((s) => `${s.name} (rc ${s.rc})`);
console.log(`gpu-check: wrote ${result} (${report.mode}; ${steps.length} steps${failed.length ? `; failed: ${failed.join(', ')}` : ', all passed'})`);
for (const r of report.side_by_side) {
  const parts = ['f32', 'f16'].filter((k) => r[k]).map((k) => `${k} ${(100 * r[k].fraction_of_torch).toFixed(0)}% (goal ${100 * r[k].goal}%)`);
  console.log(`  ${r.name}: PyTorch ${r.torch_ms} ms; ours ${parts.join(', ')}`);
}
