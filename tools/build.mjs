// Bundles the library for Node and for the browser, the CLI, the benchmarks' library entry,
// the web page (dist/web: a static folder for any host, or `multigrain serve`), every test
// file and the examples, with the WGSL shaders inlined as text (one code path for
// both targets).
import { build } from 'esbuild';
import { readdirSync, statSync, rmSync, mkdirSync, copyFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const common = {
  bundle: true,
  format: 'esm',
  target: 'es2022',
  loader: { '.wgsl': 'text' },
  sourcemap: 'linked',
  logLevel: 'warning',
};

function listTests(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...listTests(path));
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

const nodeEntries = { index: 'src/index.ts' };
try { statSync('src/cli/main.ts'); nodeEntries.cli = 'src/cli/main.ts'; } catch { /* CLI not built yet */ }
// Worker threads of the data loader (src/data/loader.ts) start dist/node/data-worker.js.
nodeEntries['data-worker'] = 'src/data/worker-entry.ts';

// Tests import the library through `src/index.ts` only; that import is mapped to the one
// built bundle, so every test file shares one engine (one GPU device, one buffer pool).
const libraryEntry = resolve('dist/node/index.js');
const publicApiIsExternal = {
  name: 'public-api-is-external',
  setup(b) {
    // src/web's modules, bundled into their tests, import the library as '../index.js'.
    b.onResolve({ filter: /^\.\.\/index\.js$/ }, (args) => {
      if (resolve(args.resolveDir, args.path) === resolve('src/index.js')) return { path: libraryEntry, external: true };
      return undefined;
    });
    b.onResolve({ filter: /src\/(index|engine\/)/ }, (args) => {
      const target = resolve(args.resolveDir, args.path);
      if (/src\/index(\.ts|\.js)?$/.test(target)) return { path: libraryEntry, external: true };
      return { errors: [{ text: `tests must import the engine through src/index.ts, not ${args.path}` }] };
    });
  },
};

// examples/*.ts import 'multigrain-webgpu' as a user would; left external, Node resolves it
// to dist/node/index.js through package.json's own name and "exports" (a self-reference).
const examples = readdirSync('examples').filter((n) => n.endsWith('.ts')).map((n) => join('examples', n));

// The page: src/web/main.ts bundled with the library into app.js; its HTML and CSS copied.
// Node-only modules stay behind dynamic imports in the library and are never reached there.
const WEB_STATIC = ['index.html', 'style.css'];
rmSync('build', { recursive: true, force: true });
rmSync('dist/web', { recursive: true, force: true });
mkdirSync('dist/web', { recursive: true });
for (const name of WEB_STATIC) copyFileSync(join('src/web', name), join('dist/web', name));
await Promise.all([
  build({ ...common, platform: 'node', packages: 'external', entryPoints: nodeEntries, outdir: 'dist/node',
    banner: { js: "import { createRequire as __mgCreateRequire } from 'node:module'; const require = __mgCreateRequire(import.meta.url);" } }),
  build({ ...common, platform: 'browser', entryPoints: { index: 'src/index.ts' }, outdir: 'dist/browser',
    external: ['webgpu', 'node:*', 'sharp', 'hnswlib-node', 'koffi'] }),
  build({ ...common, platform: 'browser', entryPoints: { app: 'src/web/main.ts' }, outdir: 'dist/web',
    external: ['webgpu', 'node:*', 'sharp', 'hnswlib-node', 'koffi'] }),
  build({ ...common, platform: 'node', packages: 'external', entryPoints: listTests('kernels-test'),
    outdir: 'build/test', outbase: 'kernels-test', plugins: [publicApiIsExternal] }),
  build({ ...common, platform: 'node', packages: 'external', entryPoints: examples, outdir: 'build/examples' }),
]);
