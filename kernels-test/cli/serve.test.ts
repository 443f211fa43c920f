// `multigrain serve`: the page's files with their MIME types, the checkpoint and Fashion-MNIST
// routes, no way out of the served folders (raw `..`, percent-encoded `..` and separators, NUL),
// a clear error when the port is taken, and the command printing its URL.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { request } from 'node:http';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { FashionMnistDataset } from '../../src/index.js';
import { startStaticServer, resolveInside, type StaticServer } from '../../src/cli/static-server.js';
import { scratchDir } from '../scratch-dir.js';

const test = suite('serve');
const CLI = resolve('dist/node/cli.js');

/** GET with the path sent exactly as written (fetch would normalize `..` away). */
function get(server: StaticServer, path: string): Promise<{ status: number; type: string; body: string }> {
  const { port } = new URL(server.url);
  return new Promise((done, fail) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('latin1');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => done({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body }));
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`GET ${path}: no answer in 10 s`)));
    req.on('error', fail);
    req.end();
  });
}

function fixture(): { web: string; ckpt: string; data: string; secret: string } {
  const dir = scratchDir('serve');
  const web = join(dir, 'web');
  mkdirSync(join(web, 'sub'), { recursive: true });
  writeFileSync(join(web, 'index.html'), '<!doctype html><title>page</title>');
  writeFileSync(join(web, 'app.js'), 'export {};');
  writeFileSync(join(web, 'k.wasm'), Buffer.from([0, 97, 115, 109]));
  writeFileSync(join(web, 'sub', 'x.wgsl'), 'fn main() {}');
  writeFileSync(join(web, 'style.css'), 'body {}');
  const secret = join(dir, 'secret.txt');
  writeFileSync(secret, 'SECRET');
  const ckpt = join(dir, 'my model.safetensors');
  writeFileSync(ckpt, 'CKPT');
  const data = join(dir, 'fmnist');
  mkdirSync(data);
  writeFileSync(join(data, 't10k-labels-idx1-ubyte.gz'), 'LABELS');
  writeFileSync(join(data, 'notes.txt'), 'not a dataset file');
  return { web, ckpt, data, secret };
}

test('files with their MIME types, config, checkpoint and Fashion-MNIST routes', async () => {
  const f = fixture();
  const server = await startStaticServer({ webRoot: f.web, checkpoint: f.ckpt, fashionMnistRoot: f.data, port: 0, host: '127.0.0.1' });
  try {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const cases: [string, number, RegExp][] = [
      ['/', 200, /^text\/html/], ['/index.html', 200, /^text\/html/], ['/app.js', 200, /^text\/javascript/],
      ['/k.wasm', 200, /^application\/wasm$/], ['/sub/x.wgsl', 200, /^text\/wgsl/], ['/style.css', 200, /^text\/css/],
      ['/missing.js', 404, /^text\/plain/],
    ];
    for (const [path, status, type] of cases) {
      const r = await get(server, path);
      assert.is(r.status, status, path);
      assert.match(r.type, type, `${path}: ${r.type}`);
    }
    const config = JSON.parse((await get(server, '/config.json')).body);
    assert.equal(config, { checkpoint: '/checkpoint/my%20model.safetensors', fashionMnist: '/data/fashion-mnist/' });
    assert.is((await get(server, config.checkpoint)).body, 'CKPT');
    assert.is((await get(server, '/checkpoint/other.safetensors')).status, 404);
    assert.is((await get(server, '/data/fashion-mnist/t10k-labels-idx1-ubyte.gz')).body, 'LABELS');
    assert.is((await get(server, '/data/fashion-mnist/notes.txt')).status, 404, 'only the four IDX files are served');
  } finally {
    await server.close();
  }
});

test('no directory traversal', async () => {
  const f = fixture();
  const server = await startStaticServer({ webRoot: f.web, fashionMnistRoot: f.data, port: 0, host: '127.0.0.1' });
  try {
    for (const path of ['/../secret.txt', '/sub/../../secret.txt', '/%2e%2e/secret.txt', '/..%2fsecret.txt', '/sub%2f..%2f..%2fsecret.txt', '/%2e%2e%5csecret.txt', '/app.js%00.html', '/%E0%A4%A']) {
      const r = await get(server, path);
      assert.ok(r.status === 403 || r.status === 404, `${path}: status ${r.status}`);
      assert.not.match(r.body, /SECRET/, path);
    }
    const up = await get(server, '/data/fashion-mnist/../../secret.txt');
    assert.is(up.status, 404, 'the URL parser folds the ..: a missing page file');
    assert.not.match(up.body, /SECRET/);
    assert.is((await get(server, '/checkpoint/x')).status, 404, 'no checkpoint given: nothing there');
  } finally {
    await server.close();
  }
  assert.is(resolveInside('/srv/web', '/a/b.js'), '/srv/web/a/b.js');
  assert.is(resolveInside('/srv/web', '/a/../../etc/passwd'), null);
  assert.is(resolveInside('/srv/web', '/%2e%2e/etc/passwd'), null);
});

test('a taken port is a clear error; the command prints its URL', async () => {
  const f = fixture();
  const first = await startStaticServer({ webRoot: f.web, port: 0, host: '127.0.0.1' });
  const port = Number(new URL(first.url).port);
  try {
    let message = '';
    await startStaticServer({ webRoot: f.web, port, host: '127.0.0.1' }).then((s) => s.close(), (e: Error) => { message = e.message; });
    assert.match(message, new RegExp(`--port ${port}: 127\\.0\\.0\\.1:${port} is already in use`));
    const cli = spawnSync(process.execPath, [CLI, 'serve', '--port', String(port), '--data-path', f.data], { encoding: 'utf8', timeout: 30_000 });
    assert.is(cli.status, 1, cli.stdout);
    assert.match(cli.stderr, /multigrain serve: --port \d+: 127\.0\.0\.1:\d+ is already in use/);
    const bad = spawnSync(process.execPath, [CLI, 'serve', '--checkpoint', join(f.web, 'nope.safetensors')], { encoding: 'utf8', timeout: 30_000 });
    assert.match(bad.stderr, /--checkpoint .*nope\.safetensors: no such file/);
  } finally {
    await first.close();
  }
  // the real command on a free port: it prints the URL and serves the built page until stopped
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--data-path', f.data], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const url = await new Promise<string>((done, fail) => {
      let out = '';
      const timer = setTimeout(() => fail(new Error(`serve printed no URL in 20 s: ${out}`)), 20_000);
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        const m = /MultiGrain page: (http:\/\/\S+)/.exec(out);
        if (m) { clearTimeout(timer); done(m[1]!); }
      });
      child.on('exit', (code) => { clearTimeout(timer); fail(new Error(`serve exited with ${code}: ${out}`)); });
    });
    const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    assert.is(res.status, 200);
    assert.match(await res.text(), /<title>MultiGrain-WebGPU<\/title>/);
    const config = await (await fetch(new URL('config.json', url), { signal: AbortSignal.timeout(10_000) })).json();
    assert.equal(config, { checkpoint: null, fashionMnist: '/data/fashion-mnist/' });
  } finally {
    child.kill('SIGTERM');
  }
});

/** An IDX file: big-endian magic and dimensions, then the bytes. */
function idx(magic: number, dims: number[], data: Uint8Array): Buffer {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head.writeUInt32BE(magic, 0);
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([head, Buffer.from(data)]);
}

test('FashionMnistDataset.fetch reads what the server offers (gzipped or not) as open() reads the folder', async () => {
  const dir = scratchDir('fmnist');
  const n = 5;
  const images = Uint8Array.from({ length: n * 784 }, (_, i) => (i * 37) % 256);
  const labels = Uint8Array.from({ length: n }, (_, i) => (i * 3) % 10);
  writeFileSync(join(dir, 't10k-images-idx3-ubyte.gz'), gzipSync(idx(0x803, [n, 28, 28], images)));
  writeFileSync(join(dir, 't10k-labels-idx1-ubyte'), idx(0x801, [n], labels));
  writeFileSync(join(dir, 'train-images-idx3-ubyte'), idx(0x803, [n, 28, 28], images));
  writeFileSync(join(dir, 'train-labels-idx1-ubyte.gz'), gzipSync(idx(0x801, [n - 1], labels.subarray(0, n - 1))));
  const f = fixture();
  const server = await startStaticServer({ webRoot: f.web, fashionMnistRoot: dir, port: 0, host: '127.0.0.1' });
  try {
    const base = new URL('data/fashion-mnist/', server.url).href;
    const fetched = await FashionMnistDataset.fetch(base, 'test');
    const opened = await FashionMnistDataset.open({ root: dir, split: 'test' });
    assert.is(fetched.length, n);
    assert.equal(Array.from(fetched.labels), Array.from(labels));
    assert.equal(Array.from(fetched.images), Array.from(opened.images));
    assert.equal((await fetched.get(2)).image.data, (await opened.get(2)).image.data);
    let message = '';
    await FashionMnistDataset.fetch(base, 'train').catch((e: Error) => { message = e.message; });
    assert.match(message, /train-images-idx3-ubyte holds 5 images but .*train-labels-idx1-ubyte\.gz holds 4 labels/);
    message = '';
    await FashionMnistDataset.fetch(new URL('nothing/', server.url).href, 'test').catch((e: Error) => { message = e.message; });
    assert.match(message, /Fashion-MNIST file not found at .*nothing\/t10k-images-idx3-ubyte\.gz/);
  } finally {
    await server.close();
  }
});

test.run();
