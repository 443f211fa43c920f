// The house rules, checked on the source tree: layers import only downwards, only the engine
// holds WGSL and dispatches kernels, every kernel is a pair (shaders/<family>/<name>.wgsl and
// src/engine/kernels/<family>/<name>.ts declaring '<family>/<name>'), headers are generated
// (no hand-written Params struct or bindings), and Node's modules stay behind src/io (and the
// Node-specific backends named below).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const test = suite('house');

function files(dir: string, ext: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...files(path, ext));
    else if (name.endsWith(ext)) out.push(path);
  }
  return out;
}

const SOURCES = files('src', '.ts');
const SHADERS = files('shaders', '.wgsl');

/** What each top-level folder of src/ may import (besides itself). */
const ALLOWED: Record<string, readonly string[]> = {
  util: [],
  io: ['util'],
  data: ['io', 'util'],
  engine: ['util'],
  nn: ['engine', 'io', 'util'],
  multigrain: ['nn', 'engine', 'data', 'io', 'util'],
  cli: ['multigrain', 'nn', 'engine', 'data', 'io', 'util'],
};

/** Files that may import node: modules: src/io, the CLI, and Node backends behind interfaces. */
const NODE_ALLOWED = [/^src\/io\//, /^src\/cli\//, /^src\/data\/(decode-node|turbo-jpeg)\.ts$/, /^src\/data\/worker-(pool|entry)\.ts$/, /^src\/engine\/device\.ts$/];

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)].map((m) => m[1]);
}

function layerOf(path: string): string {
  return relative('src', path).split('/')[0];
}

test('layers import only downwards', () => {
  const bad: string[] = [];
  for (const file of SOURCES) {
    const from = layerOf(file);
    if (!(from in ALLOWED)) continue; // src/index.ts gathers every layer
    for (const spec of imports(file)) {
      if (!spec.startsWith('.')) continue;
      const target = resolve(dirname(file), spec);
      const rel = relative(resolve('src'), target);
      if (rel.startsWith('..')) {
        if (!(from === 'engine' && relative(resolve('.'), target).startsWith('shaders/'))) bad.push(`${file} imports ${spec}`);
        continue;
      }
      const to = rel.split('/')[0];
      if (to !== from && !ALLOWED[from].includes(to)) bad.push(`${file} (${from}) imports ${spec} (${to})`);
    }
  }
  assert.equal(bad, []);
});

// The page (src/web) stands beside the CLI on top of the library: it imports the public API
// (src/index.ts) and its own files only, and nothing from Node, so it runs on any static host.
test('the page imports the public API only, and no node: module', () => {
  const bad: string[] = [];
  for (const file of SOURCES.filter((f) => f.startsWith('src/web/'))) {
    for (const spec of imports(file)) {
      if (!spec.startsWith('.')) { bad.push(`${file} imports package ${spec}`); continue; }
      const rel = relative(resolve('src'), resolve(dirname(file), spec));
      if (rel !== 'index.js' && !rel.startsWith('web/')) bad.push(`${file} imports ${spec} (only ../index.js and src/web/*)`);
    }
  }
  assert.equal(bad, []);
  assert.ok(SOURCES.some((f) => f.startsWith('src/web/')), 'src/web holds the page');
});

test('only the engine holds WGSL and dispatches kernels', () => {
  const bad = SOURCES.filter((f) => !f.startsWith('src/engine/'))
    .filter((f) => /\.wgsl'|defineKernel|\.dispatch\(|binaryMap|unaryMap|mapStrided/.test(readFileSync(f, 'utf8')));
  assert.equal(bad, []);
  const wgslImports = SOURCES.filter((f) => imports(f).some((s) => s.endsWith('.wgsl')))
    .filter((f) => !f.startsWith('src/engine/kernels/') && f !== 'src/engine/wgsl-header.ts');
  assert.equal(wgslImports, [], 'WGSL is imported by kernel twins and the header generator only');
});

test('every kernel is a pair: shaders/<family>/<name>.wgsl and src/engine/kernels/<family>/<name>.ts', () => {
  const missing: string[] = [];
  for (const shader of SHADERS) {
    const name = relative('shaders', shader).replace(/\.wgsl$/, '');
    if (name.startsWith('common/')) continue;
    const twin = join('src/engine/kernels', `${name}.ts`);
    let text = '';
    try {
      text = readFileSync(twin, 'utf8');
    } catch {
      missing.push(`${shader}: no ${twin}`);
      continue;
    }
    if (!text.includes(`name: '${name}'`) || !text.includes(`shaders/${name}.wgsl'`)) missing.push(`${twin} does not declare '${name}' from its .wgsl`);
  }
  assert.equal(missing, []);
  assert.ok(SHADERS.length > 30, `found ${SHADERS.length} shaders`);
});

test('headers are generated: no hand-written Params struct, bindings or uniform chains', () => {
  const handWritten = SHADERS.filter((f) => /struct Params|@binding\(/.test(readFileSync(f, 'utf8')));
  assert.equal(handWritten, []);
  const chains = SOURCES.filter((f) => /new Uniforms\(\)|\.u32\(0\)/.test(readFileSync(f, 'utf8')));
  assert.equal(chains, []);
});

test("node: modules stay behind src/io and the Node backends", () => {
  const bad = SOURCES.filter((f) => !NODE_ALLOWED.some((r) => r.test(f)))
    .filter((f) => imports(f).some((s) => s.startsWith('node:')));
  assert.equal(bad, []);
});

test.run();
