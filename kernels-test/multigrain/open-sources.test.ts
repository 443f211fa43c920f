// Every weights reader takes a path, a file: URL, an http URL (fetched), a Blob/File or the
// bytes, and gives the same model from each; errors name the source (a path, a File's name,
// a URL with its HTTP status).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  init, openMultiGrain, readByteSource, byteSourceName, loadTorchCheckpointFile, readSafetensorsFile, loadCheckpointFile, encodeCheckpoint,
  writeSafetensors, makeHostTensor, hostTensorToFloat32, type ByteSource,
} from '../../src/index.js';
import { assertThrowsWith } from '../helpers.js';

const test = suite('open-sources');
const PTH = resolve('kernels-test/multigrain/fixtures/pth/mg_r50w2_zip.pth');
const bytes = new Uint8Array(readFileSync(PTH)) as Uint8Array<ArrayBuffer>;
let server: Server;
let base = '';

test.before(async () => {
  await init();
  server = createServer((req, res) => {
    if (req.url === '/model.pth') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(bytes);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});

test.after(() => {
  server.close();
});

test('readByteSource: bytes, ArrayBuffer, Blob, File, path, file: URL and http URL give the same bytes', async () => {
  const sources: ByteSource[] = [
    bytes, bytes.slice().buffer, new Blob([bytes]), new File([bytes], 'model.pth'), PTH, pathToFileURL(PTH), pathToFileURL(PTH).href,
    `${base}/model.pth`, new URL(`${base}/model.pth`),
  ];
  for (const source of sources) {
    const read = await readByteSource(source);
    assert.is(read.byteLength, bytes.byteLength, byteSourceName(source));
    assert.ok(read.every((b, i) => b === bytes[i]), `${byteSourceName(source)}: same content`);
  }
});

test('openMultiGrain from each kind of source gives the same weights; our checkpoint\'s bytes keep the class names', async () => {
  const fromPath = await openMultiGrain(PTH);
  const reference = hostTensorToFloat32((await fromPath.model.exportStateDict()).get('classifier.weight')!);
  for (const source of [bytes, new File([bytes], 'model.pth'), `${base}/model.pth`] as ByteSource[]) {
    const opened = await openMultiGrain(source);
    assert.equal(opened.architecture, fromPath.architecture, byteSourceName(source));
    assert.equal(Array.from(hostTensorToFloat32((await opened.model.exportStateDict()).get('classifier.weight')!)), Array.from(reference), byteSourceName(source));
    assert.is(opened.classes, undefined, 'a .pth records no class names');
    opened.model.parameters().forEach((t) => t.dispose());
  }
  const classes = Array.from({ length: fromPath.architecture.numClasses }, (_, i) => `class ${i}`);
  const ours = encodeCheckpoint({ groups: { model: await fromPath.model.exportStateDict() }, meta: { epoch: 1, classes } });
  const reopened = await openMultiGrain(new Blob([ours as Uint8Array<ArrayBuffer>]));
  assert.equal(reopened.classes, classes);
  assert.equal((reopened.meta as { epoch: number }).epoch, 1);
  assert.is((await loadCheckpointFile(ours)).groups.model!.size, (await fromPath.model.exportStateDict()).size);
  fromPath.model.parameters().forEach((t) => t.dispose());
  reopened.model.parameters().forEach((t) => t.dispose());
});

test('the .pth and safetensors readers take bytes and Blobs', async () => {
  const torch = await loadTorchCheckpointFile(new Blob([bytes]));
  assert.is(torch.format, 'zip');
  const st = writeSafetensors([['x', makeHostTensor('f32', [2], Float32Array.of(1, 2))]]);
  const read = await readSafetensorsFile(new File([st as Uint8Array<ArrayBuffer>], 'x.safetensors'));
  assert.equal(Array.from(hostTensorToFloat32(read.tensors.get('x')!)), [1, 2]);
});

test('errors name the source: a missing path, an HTTP 404, a File that is no checkpoint', async () => {
  await assertThrowsWith(() => openMultiGrain('/nonexistent/model.pth'), ['/nonexistent/model.pth', 'no such file'], 'missing path');
  await assertThrowsWith(() => openMultiGrain(`${base}/missing.pth`), [`${base}/missing.pth`, 'HTTP 404'], 'HTTP 404');
  await assertThrowsWith(() => openMultiGrain(new File([new Uint8Array(64)], 'garbage.safetensors')), ['garbage.safetensors'], 'not a checkpoint');
  await assertThrowsWith(() => loadTorchCheckpointFile(new File([new Uint8Array(16)], 'zeros.pth')), ['zeros.pth', 'not a PyTorch checkpoint'], 'not a .pth');
});

test.run();
