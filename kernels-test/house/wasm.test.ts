// The committed WebAssembly (src/**/*-wasm.ts) is the assembly of its .wat source: an edit of the
// .wat without `node tools/build-wasm.mjs` fails here.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import wabtInit from 'wabt';
import { RESIZE_WASM } from '../../src/data/transforms/resize-wasm.js';

test('resize-wasm.ts holds the assembly of resize.wat', async () => {
  const wabt = await wabtInit();
  const path = 'src/data/transforms/resize.wat';
  const parsed = wabt.parseWat(path, readFileSync(path, 'utf8'), { simd: true });
  parsed.validate();
  const bytes = Buffer.from(parsed.toBinary({}).buffer);
  parsed.destroy();
  assert.is(bytes.toString('base64'), RESIZE_WASM, 'run node tools/build-wasm.mjs');
});

test.run();
