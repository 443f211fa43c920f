/**
 * The HTTP server behind `multigrain serve`: the page (dist/web), an optional checkpoint and
 * the Fashion-MNIST files, read-only. Every path is resolved inside its folder (no `..`, no
 * encoded separators, no NUL), so nothing outside those files can be read.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { basename, extname, resolve, sep } from 'node:path';

/** Content types by file extension (without the dot); wasm needs its own for streaming compilation. */
export const MIME_TYPES: Readonly<Record<string, string>> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  mjs: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  json: 'application/json; charset=utf-8',
  map: 'application/json; charset=utf-8',
  wasm: 'application/wasm',
  wgsl: 'text/wgsl; charset=utf-8',
  svg: 'image/svg+xml',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  ico: 'image/x-icon',
  txt: 'text/plain; charset=utf-8',
  gz: 'application/gzip',
  safetensors: 'application/octet-stream',
  pth: 'application/octet-stream',
  npy: 'application/octet-stream',
};

/** The four Fashion-MNIST files the page may fetch (gzipped or not, as the folder holds them). */
const FASHION_MNIST_FILES = new Set(['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte']
  .flatMap((n) => [n, `${n}.gz`]));

/** What the page reads at `/config.json` to know what this server offers. */
export interface ServeConfig {
  /** URL of the checkpoint given with --checkpoint, or null. */
  checkpoint: string | null;
  /** URL of the Fashion-MNIST folder, or null when the server found none. */
  fashionMnist: string | null;
}

export interface StaticServerOptions {
  /** The built page (dist/web). */
  webRoot: string;
  /** A checkpoint file to offer at /checkpoint/<its name>. */
  checkpoint?: string;
  /** Folder of the Fashion-MNIST IDX files, offered at /data/fashion-mnist/. */
  fashionMnistRoot?: string;
  port: number;
  host: string;
}

export interface StaticServer {
  server: Server;
  /** http://host:port/ */
  url: string;
  config: ServeConfig;
  close(): Promise<void>;
}

/**
 * The file a request path names inside `root`, or null when it would leave it: the path is
 * percent-decoded once, and a `..` segment, a backslash or a NUL refuses it outright.
 */
export function resolveInside(root: string, urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  const segments = decoded.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.some((s) => s === '..')) return null;
  const base = resolve(root);
  const path = resolve(base, ...segments);
  return path === base || path.startsWith(base + sep) ? path : null;
}

function contentType(path: string): string {
  return MIME_TYPES[extname(path).slice(1).toLowerCase()] ?? 'application/octet-stream';
}

async function sendFile(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
  const info = await stat(path).catch(() => null);
  if (!info?.isFile()) return sendText(res, 404, 'not found');
  res.writeHead(200, { 'content-type': contentType(path), 'content-length': info.size, 'cache-control': 'no-cache' });
  if (req.method === 'HEAD') { res.end(); return; }
  createReadStream(path).on('error', () => res.destroy()).pipe(res);
}

function sendText(res: ServerResponse, status: number, text: string, type = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Starts the server; rejects with a message naming the address when the port is taken. */
export async function startStaticServer(options: StaticServerOptions): Promise<StaticServer> {
  const checkpointName = options.checkpoint === undefined ? null : basename(options.checkpoint);
  const config: ServeConfig = {
    checkpoint: checkpointName === null ? null : `/checkpoint/${encodeURIComponent(checkpointName)}`,
    fashionMnist: options.fashionMnistRoot === undefined ? null : '/data/fashion-mnist/',
  };
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendText(res, 405, 'method not allowed');
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path === '/config.json') return sendText(res, 200, JSON.stringify(config), MIME_TYPES.json);
    if (path.startsWith('/checkpoint/')) {
      const name = decodeURIComponentSafe(path.slice('/checkpoint/'.length));
      return name !== null && name === checkpointName ? sendFile(req, res, options.checkpoint!) : sendText(res, 404, 'not found');
    }
    if (path.startsWith('/data/fashion-mnist/')) {
      const name = path.slice('/data/fashion-mnist/'.length);
      if (options.fashionMnistRoot === undefined || !FASHION_MNIST_FILES.has(name)) return sendText(res, 404, 'not found');
      return sendFile(req, res, resolve(options.fashionMnistRoot, name));
    }
    const file = resolveInside(options.webRoot, path.endsWith('/') ? `${path}index.html` : path);
    if (file === null) return sendText(res, 403, 'forbidden');
    return sendFile(req, res, file);
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((err: Error) => {
      if (!res.headersSent) sendText(res, 500, `error: ${err.message}`);
      else res.destroy();
    });
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      const where = `${options.host}:${options.port}`;
      if (err.code === 'EADDRINUSE') reject(new Error(`--port ${options.port}: ${where} is already in use (another server is listening there); pick another port with --port`));
      else if (err.code === 'EACCES') reject(new Error(`--port ${options.port}: not allowed to listen on ${where} (ports below 1024 need privileges)`));
      else if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND') reject(new Error(`--host ${options.host}: not an address of this machine`));
      else reject(new Error(`cannot listen on ${where}: ${err.message}`));
    });
    server.listen(options.port, options.host, () => resolveListen());
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    server,
    url: `http://${host}:${port}/`,
    config,
    close: () => new Promise<void>((done) => { server.closeAllConnections(); server.close(() => done()); }),
  };
}

function decodeURIComponentSafe(s: string): string | null {
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
}
