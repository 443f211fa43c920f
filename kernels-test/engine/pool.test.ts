// The buffer pool on a stand-in device (no GPU needed): size classes at most 19% above the
// request, reuse after submit, uploads never get a buffer the unsubmitted batch still reads,
// and no class rounds a bindable size past the device's binding limit.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { BufferPool, sizeClass } from '../../src/index.js';

const test = suite('pool');

function fakeDevice(maxStorageBufferBindingSize: number): { device: GPUDevice; sizes: number[] } {
  const sizes: number[] = [];
  const device = {
    limits: { maxStorageBufferBindingSize },
    createBuffer: ({ size }: GPUBufferDescriptor) => {
      sizes.push(size);
      return { size, destroy: () => undefined } as unknown as GPUBuffer;
    },
  } as unknown as GPUDevice;
  return { device, sizes };
}

test('size classes cover the request with at most 19% waste', () => {
  for (const bytes of [4, 256, 257, 1000, 4096, 5000, 123457, 1 << 20, (1 << 20) + 4, 99999996]) {
    const c = sizeClass(bytes);
    assert.ok(c >= bytes && c % 256 === 0, `class of ${bytes}: ${c}`);
    if (bytes > 256) assert.ok(c <= Math.ceil(bytes * 1.19 / 256) * 256, `class of ${bytes} wastes too much: ${c}`);
  }
});

test('a released buffer is reused for outputs at once, for uploads only after submit', () => {
  const { device, sizes } = fakeDevice(1 << 30);
  const pool = new BufferPool(device);
  const a = pool.acquire(1000, false);
  pool.release(a);
  assert.is.not(pool.acquire(1000, true), a, 'an upload must not overwrite what the open batch reads');
  assert.is(pool.acquire(1000, false), a, 'a kernel output runs after the readers: reuse is safe');
  const b = pool.acquire(3000, false);
  pool.release(b);
  pool.onSubmit();
  assert.is(pool.acquire(3000, true), b, 'after submit, any use');
  assert.is(sizes.length, 3);
});

test('classes stop at the binding limit for sizes that fit it', () => {
  const limit = 100_000_000; // not a class boundary: sizeClass(limit) is above it
  assert.ok(sizeClass(limit) > limit);
  const { device, sizes } = fakeDevice(limit);
  const pool = new BufferPool(device);
  pool.acquire(limit, false);
  pool.acquire(limit - 4000, false);
  assert.ok(sizes.every((s) => s <= limit), `buffer sizes ${sizes.join(', ')} exceed the limit ${limit}`);
});

test.run();
