// Shared helpers of the io tests: fixture paths and exact tensor comparison.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as assert from 'uvu/assert';
import { hostTensorBytes, type HostTensor } from '../../src/index.js';

// Built tests live in build/test/io/; the fixtures stay in kernels-test/io/fixtures/.
const dir = fileURLToPath(new URL('../../../kernels-test/io/fixtures/', import.meta.url));

export function fixturePath(name: string): string {
  return dir + name;
}

export function fixture(name: string): Uint8Array {
  const b = readFileSync(fixturePath(name));
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

export function assertSameTensor(actual: HostTensor | undefined, expected: HostTensor, what: string): void {
  assert.ok(actual, `${what}: missing`);
  assert.is(actual!.dtype, expected.dtype, `${what}: dtype`);
  assert.equal(actual!.shape, expected.shape, `${what}: shape`);
  const a = hostTensorBytes(actual!);
  const e = hostTensorBytes(expected);
  assert.is(a.length, e.length, `${what}: byte length`);
  let same = true;
  for (let i = 0; i < a.length; i++) if (a[i] !== e[i]) { same = false; break; }
  assert.ok(same, `${what}: values differ\n  got      ${Array.from(actual!.data as ArrayLike<number | bigint>).slice(0, 8).join(', ')}\n  expected ${Array.from(expected.data as ArrayLike<number | bigint>).slice(0, 8).join(', ')}`);
}
