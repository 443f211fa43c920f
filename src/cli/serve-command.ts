/**
 * `multigrain serve [--port 8080] [--host 127.0.0.1] [--checkpoint C] [--data-path D]`: serves
 * the page (dist/web, built by tools/build.mjs) so that a person can train, classify and search
 * in a browser tab; with --checkpoint the page offers that model, and the Fashion-MNIST files
 * found in --data-path are offered for training. Runs until interrupted (Ctrl-C).
 */
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import { parseOptions, optionsHelp } from './args.js';
import { startStaticServer } from './static-server.js';
import { nodeFileStore } from '../io/index.js';
import { FASHION_MNIST_DEFAULT_ROOT } from '../data/index.js';
import type { OptionTable, OptionValues } from '../util/options.js';

export const SERVE_OPTIONS = {
  port: { flag: 'port', type: 'int', help: 'TCP port (0: any free port)', default: 8080, min: 0, max: 65535 },
  host: { flag: 'host', type: 'string', help: 'address to listen on (0.0.0.0: every interface)', default: '127.0.0.1' },
  checkpoint: { flag: 'checkpoint', type: 'string', help: 'a checkpoint (.safetensors or .pth) the page offers for classify and search' },
  dataPath: { flag: 'data-path', type: 'string', help: 'folder of the Fashion-MNIST IDX files the page trains on', default: FASHION_MNIST_DEFAULT_ROOT },
} as const satisfies OptionTable;

type ServeFlags = OptionValues<typeof SERVE_OPTIONS>;

/** dist/web beside the CLI bundle (dist/node/cli.js). */
export function webRoot(): string {
  return fileURLToPath(new URL('../web/', import.meta.url));
}

export async function serveCommand(argv: string[]): Promise<void> {
  const f = parseOptions(argv, SERVE_OPTIONS) as ServeFlags | null;
  if (!f) {
    console.log(optionsHelp('serve', 'Serves the MultiGrain web page: train, classify and search in a browser tab.', SERVE_OPTIONS));
    return;
  }
  const root = webRoot();
  if (!(await nodeFileStore.stat(resolve(root, 'index.html')))) throw new Error(`the page is not built (${root}index.html is missing): run node tools/build.mjs`);
  if (f.checkpoint !== undefined) {
    const s = await nodeFileStore.stat(f.checkpoint);
    if (!s?.isFile) throw new Error(`--checkpoint ${f.checkpoint}: no such file`);
  }
  const data = await nodeFileStore.stat(f.dataPath);
  const fashionMnistRoot = data?.isDirectory ? f.dataPath : undefined;
  const server = await startStaticServer({
    webRoot: root, port: f.port, host: f.host,
    ...(f.checkpoint !== undefined ? { checkpoint: resolve(f.checkpoint) } : {}),
    ...(fashionMnistRoot !== undefined ? { fashionMnistRoot } : {}),
  });
  console.log(`MultiGrain page: ${server.url}`);
  if (f.checkpoint !== undefined) console.log(`checkpoint: ${f.checkpoint}`);
  console.log(fashionMnistRoot !== undefined ? `Fashion-MNIST: ${fashionMnistRoot}` : `Fashion-MNIST: not found in ${f.dataPath} (the page trains on folders you pick)`);
  console.log('Ctrl-C stops the server.');
  await new Promise<void>((done) => {
    const stop = (): void => { process.off('SIGINT', stop); process.off('SIGTERM', stop); void server.close().then(done); };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
