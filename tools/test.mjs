// Runs every built test file (build/test/**/*.test.js) in one process with uvu, so all
// tests share one GPU device, then shuts the engine down so Node exits.
// Usage: node tools/test.mjs [substring-filter]
import { readdirSync, statSync } from 'node:fs';
import { join, resolve, relative } from 'node:path';
import { run } from 'uvu/run';

const filter = process.argv[2] ?? '';
function list(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...list(path));
    else if (name.endsWith('.test.js')) out.push(path);
  }
  return out;
}
const root = 'build/test';
const suites = list(root)
  .filter((f) => f.includes(filter))
  .map((f) => ({ name: relative(root, f), file: resolve(f) }));
if (suites.length === 0) {
  console.error(`no test files under ${root} match "${filter}"`);
  process.exit(1);
}
await run(suites, { bail: false });
const lib = await import(resolve('dist/node/index.js'));
await lib.shutdown?.();
